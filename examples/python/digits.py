"""Handwritten digits (scikit-learn's 8x8 digits data set) with a progress bar.

Trains a 64-128-10 ReLU/softmax net with Adam, holding out 10 % of the training rows for
validation and stopping early when the validation loss stops improving; prints the held-out
accuracy. The progress bar is tqdm's when tqdm is installed, a plain status line otherwise.
Needs scikit-learn for the data. Press Ctrl-C to stop training early: the model keeps the last
completed epoch.

    python examples/python/digits.py [epochs]
"""
import sys

import numpy as np

import nncore

try:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
except ImportError:
    sys.exit("this example needs scikit-learn for the digits data: pip install scikit-learn")


def main(epochs="100"):
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y.astype(np.int32), test_size=0.25, random_state=0,
                                                        stratify=y)

    model = nncore.Model(64, seed=0).dense(128, "relu").dense(10)
    model.class_labels = [str(d) for d in range(10)]
    try:
        history = model.fit(X_train, y_train, epochs=int(epochs), batch_size=32, optimizer="adam", lr=1e-3,
                            l2=1e-4, validation=0.1, early_stopping=nncore.EarlyStopping(patience=10),
                            progress=True)
        print(f"stopped: {history.stop_reason} after {len(history)} epochs (best epoch {history.best_epoch})")
    except KeyboardInterrupt:
        print(f"\ninterrupted after {model.epochs_trained} epochs")

    result = model.evaluate(X_test, y_test)
    print(f"held-out accuracy {result.accuracy:.2%} on {result.count} digits (loss {result.loss:.4f})")
    print("first ten predictions:", " ".join(model.classify(X_test[:10], labels=True)),
          " truth:", " ".join(str(d) for d in y_test[:10]))
    return 0 if result.accuracy >= 0.97 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
