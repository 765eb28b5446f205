"""The article's own training script, kept independent of benchbook, as a reference for timings.

"MacBook M1 vs M1 Pro for Data Science" timed each workload as plain Keras code: generators from
``flow_from_directory``, ``model.fit(..., epochs=5)``, and the wall time of the whole fit divided
by the number of epochs. This script does exactly that and imports nothing from benchbook, so
comparing its figure with the harness's on the same data shows whether the harness adds overhead
or changes the workload:

    python scripts/article_script.py --data .cache/synthetic-<key> --workload cnn --epochs 3

It prints one line: workload, epochs, total seconds, seconds per epoch (warm-up included, as the
article measured).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    """Train one workload the article's way and print its time per epoch."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True, help="folder with train/ and validation/")
    p.add_argument("--workload", choices=["cnn", "cnn-aug", "vgg16", "vgg16-aug"], required=True)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args()

    import tensorflow as tf

    tf.random.set_seed(42)
    size = (args.image_size, args.image_size)
    if args.workload.endswith("-aug"):
        train_datagen = tf.keras.preprocessing.image.ImageDataGenerator(
            rescale=1 / 255.0,
            rotation_range=20,
            width_shift_range=0.2,
            height_shift_range=0.2,
            shear_range=0.2,
            zoom_range=0.2,
            horizontal_flip=True,
            fill_mode="nearest",
        )
    else:
        train_datagen = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255.0)
    valid_datagen = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255.0)
    train_data = train_datagen.flow_from_directory(
        directory=str(args.data / "train"),
        target_size=size,
        class_mode="categorical",
        batch_size=args.batch_size,
        seed=42,
    )
    valid_data = valid_datagen.flow_from_directory(
        directory=str(args.data / "validation"),
        target_size=size,
        class_mode="categorical",
        batch_size=args.batch_size,
        seed=42,
    )
    if args.workload.startswith("cnn"):
        model = tf.keras.Sequential(
            [
                tf.keras.layers.Conv2D(32, (3, 3), input_shape=(*size, 3), activation="relu"),
                tf.keras.layers.MaxPool2D((2, 2), padding="same"),
                tf.keras.layers.Conv2D(32, (3, 3), activation="relu"),
                tf.keras.layers.MaxPool2D((2, 2), padding="same"),
                tf.keras.layers.Flatten(),
                tf.keras.layers.Dense(128, activation="relu"),
                tf.keras.layers.Dense(2, activation="softmax"),
            ]
        )
    else:
        vgg = tf.keras.applications.VGG16(include_top=False, input_shape=(*size, 3), weights=None)
        for layer in vgg.layers:
            layer.trainable = False
        x = tf.keras.layers.Flatten()(vgg.layers[-1].output)
        x = tf.keras.layers.Dense(128, activation="relu")(x)
        out = tf.keras.layers.Dense(2, activation="softmax")(x)
        model = tf.keras.models.Model(inputs=vgg.input, outputs=out)
    model.compile(
        loss=tf.keras.losses.categorical_crossentropy,
        optimizer=tf.keras.optimizers.Adam(),
        metrics=[tf.keras.metrics.BinaryAccuracy(name="accuracy")],
    )
    start = time.perf_counter()
    model.fit(train_data, validation_data=valid_data, epochs=args.epochs, verbose=2)
    total = time.perf_counter() - start
    print(
        f"{args.workload}\tepochs {args.epochs}\ttotal {total:.2f} s\tper epoch {total / args.epochs:.2f} s"
    )


if __name__ == "__main__":
    main()
