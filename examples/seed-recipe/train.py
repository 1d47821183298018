"""The reproducibility article's recipe, assembled (its Examples 1-3): breast-cancer data from
scikit-learn, split and standardised with a fixed random_state, a seeded Keras model trained and
saved. Its seed recipe, np.random.seed(42) + tf.random.set_seed(42), is not reproducible under
Keras 3: Keras 3 initializers draw their seed from Python's `random`. `--keras-seed` applies the
fix, keras.utils.set_random_seed(42); `--no-seed` seeds nothing; `--split-seed N` changes the
split (another random_state) to show a data difference at fit.

    python train.py --out out [--keras-seed | --no-seed] [--split-seed 42]
"""
import argparse
import json
import os

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--out", default="out")
parser.add_argument("--keras-seed", action="store_true", help="the fix: keras.utils.set_random_seed(42)")
parser.add_argument("--no-seed", action="store_true", help="seed nothing at all")
parser.add_argument("--split-seed", type=int, default=42, help="train_test_split's random_state")
parser.add_argument("--epochs", type=int, default=10)
args = parser.parse_args()

import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

# Example 1: reproducible data preprocessing.
if not args.no_seed:
    np.random.seed(42)
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=args.split_seed)
scaler = StandardScaler()
X_train = scaler.fit_transform(X_train).astype("float32")
X_test = scaler.transform(X_test).astype("float32")

# Example 2: reproducible model definition and training.
if args.keras_seed:
    keras.utils.set_random_seed(42)
elif not args.no_seed:
    tf.random.set_seed(42)
    np.random.seed(42)

model = keras.Sequential([
    keras.Input(shape=(X_train.shape[1],)),
    keras.layers.Dense(64, activation="relu", kernel_initializer="glorot_uniform"),
    keras.layers.Dense(32, activation="relu", kernel_initializer="glorot_uniform"),
    keras.layers.Dense(1, activation="sigmoid", kernel_initializer="glorot_uniform"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=args.epochs, batch_size=32, validation_data=(X_test, y_test), verbose=2)

# Example 3: save the model (the legacy .h5 as the article does, and .keras).
os.makedirs(args.out, exist_ok=True)
loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
with open(os.path.join(args.out, "metrics.json"), "w") as f:
    json.dump({"test_loss": float(loss), "test_accuracy": float(accuracy)}, f)
np.save(os.path.join(args.out, "predictions.npy"), model.predict(X_test, verbose=0))
model.save(os.path.join(args.out, "model.keras"))
model.save(os.path.join(args.out, "model.h5"))
print("test accuracy", accuracy)
