"""Writes data/train.csv: a small two-class problem, seeded, so the example needs no download."""
import csv
import random

rng = random.Random(1234)
with open("data/train.csv", "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["x0", "x1", "x2", "x3", "label"])
    for _ in range(512):
        xs = [round(rng.gauss(0.0, 1.0), 6) for _ in range(4)]
        label = 1 if xs[0] + 0.5 * xs[1] - 0.25 * xs[2] * xs[3] > 0 else 0
        writer.writerow(xs + [label])
