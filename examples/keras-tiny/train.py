"""A tiny, seeded Keras training: the built-in example for `snapshot capture --run`.

Reads data/train.csv, trains a small MLP for a few epochs and writes to --out (default out/):
metrics.json (the Keras History), predictions.npy, model.weights.h5 and model.keras
(and model.h5, the legacy HDF5 format, with --legacy-h5).
"""
import argparse
import json
import os

import numpy as np
import keras

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="out")
parser.add_argument("--seed", type=int, default=42)
parser.add_argument("--epochs", type=int, default=5)
parser.add_argument("--legacy-h5", action="store_true", help="also save the whole model in the legacy HDF5 format (model.h5)")
args = parser.parse_args()

keras.utils.set_random_seed(args.seed)
if keras.config.backend() == "tensorflow":
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()

here = os.path.dirname(os.path.abspath(__file__))
table = np.loadtxt(os.path.join(here, "data", "train.csv"), delimiter=",", skiprows=1, dtype="float32")
x, y = table[:, :4], table[:, 4:]

model = keras.Sequential(
    [
        keras.Input(shape=(4,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ]
)
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
history = model.fit(x, y, epochs=args.epochs, batch_size=32, shuffle=True, verbose=2)

os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "metrics.json"), "w") as f:
    json.dump({k: [float(v) for v in vs] for k, vs in history.history.items()}, f, indent=2, sort_keys=True)
np.save(os.path.join(args.out, "predictions.npy"), model.predict(x[:64], verbose=0))
model.save_weights(os.path.join(args.out, "model.weights.h5"))
model.save(os.path.join(args.out, "model.keras"))
if args.legacy_h5:
    model.save(os.path.join(args.out, "model.h5"))
print("wrote", sorted(os.listdir(args.out)))
