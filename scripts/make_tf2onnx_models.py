#!/usr/bin/env python3
"""Make the tf2onnx QDQ test models (issue 15): the six small digits nets of
scripts/make_qdq_models.py, written in Keras, trained on scikit-learn's digits, converted by
TFLiteConverter to full-integer int8 (float input and output, representative dataset from the
digits), then by `python -m tf2onnx.convert --tflite` to ONNX QDQ. ONNX Runtime's outputs of the
ONNX file on the 200 held-out digits are the reference (as for the other quantizers), and the
.tflite file is kept too: tinyc(onnx) == tinyc(tflite) == the TFLite Micro interpreter.
Only needed to *remake* the files under tests/qdq_models/; the tests need no TensorFlow.

TensorFlow lives in its own venv (it pins its own numpy / protobuf):

    python3 -m venv /work/venv-tf
    /work/venv-tf/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 tf2onnx==1.17.0 \\
        scikit-learn onnx onnxruntime
    TF_ENABLE_ONEDNN_OPTS=0 /work/venv-tf/bin/python scripts/make_tf2onnx_models.py [model ...]

(the set that installed and ran together: tensorflow-cpu 2.21.0, keras 3.15.1, tf-keras 2.21.0,
tf2onnx 1.17.0, numpy 2.4.6, protobuf 7.36.2, onnx 1.23.2, onnxruntime 1.32.0, scikit-learn
1.9.1; tf2onnx converts the .tflite, so Keras 3 is no obstacle. tf2onnx of the Keras model
itself writes a float ONNX file: a QDQ one needs quantization-aware training, not done here.)

Models (Keras, NHWC input "input" [1,8,8,1] float32 in [0,1]; C == 1, so the values are those of
ref.npz's NCHW [200,1,8,8] "input"; output [1,10] logits):
    cnn        Conv-Relu, Conv(stride 2)-Relu, Flatten, Dense
    dwsep      Conv-Relu, DepthwiseConv(stride 2)-Relu, pointwise Conv-Relu, GlobalAveragePool,
               Dense
    resnet     Conv-Relu, a residual block (Conv-Relu-Conv + skip, Add, Relu), AveragePool 4x4,
               Dense
    mlp        Flatten, Dense-Relu, Dense-Relu, Dense
    autoenc    Flatten, Dense-BatchNorm-Relu to an 8-wide code, Dense-BatchNorm-Relu, Dense
               (TFLiteConverter folds the BatchNorms into the Dense layers)
    mixed      ZeroPadding, Conv-HardSwish, sigmoid gate (x * Sigmoid(Conv1x1 x)), Concat, MaxPool,
               Flatten, MatMul with a weight matrix + bias

Files: tests/qdq_models/<model>_tf2onnx.onnx and <model>_tf2onnx.tflite; ref.npz gets
"<model>_tf2onnx": ORT's output [200,10] of the ONNX file.
"""
from __future__ import annotations

import os
import pathlib
import random
import subprocess
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "qdq_models"
sys.path.insert(0, str(ROOT / "examples" / "digits"))
SEED = 0
N_REF = 200
N_CALIB = 100


def nets(batch=None):
    import tensorflow as tf
    L = tf.keras.layers

    def seq(*layers):
        inp = tf.keras.Input((8, 8, 1), batch_size=batch, name="input")
        x = inp
        for layer in layers:
            x = layer(x)
        return tf.keras.Model(inp, x)

    def resnet():
        inp = tf.keras.Input((8, 8, 1), batch_size=batch, name="input")
        x = L.Conv2D(8, 3, padding="same", activation="relu")(inp)
        y = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        y = L.Conv2D(8, 3, padding="same")(y)
        x = L.ReLU()(L.Add()([x, y]))
        x = L.AveragePooling2D(4)(x)
        return tf.keras.Model(inp, L.Dense(10)(L.Flatten()(x)))

    class MatMulBias(L.Layer):
        """x @ W + b with a plain weight matrix (not a Dense layer)."""

        def build(self, shape):
            self.w = self.add_weight(shape=(int(shape[-1]), 10), initializer="glorot_uniform")
            self.b = self.add_weight(shape=(10,), initializer="zeros")

        def call(self, x):
            return tf.matmul(x, self.w) + self.b

    def mixed():
        inp = tf.keras.Input((8, 8, 1), batch_size=batch, name="input")
        x = L.ZeroPadding2D(1)(inp)
        x = L.Activation("hard_swish")(L.Conv2D(8, 3)(x))
        g = L.Multiply()([x, L.Activation("sigmoid")(L.Conv2D(8, 1)(x))])
        x = L.Concatenate()([g, L.Conv2D(4, 1)(x)])
        x = L.Flatten()(L.MaxPooling2D(2)(x))
        return tf.keras.Model(inp, MatMulBias()(x))

    return {
        "cnn": lambda: seq(L.Conv2D(8, 3, padding="same", activation="relu"),
                           L.Conv2D(16, 3, strides=2, padding="same", activation="relu"),
                           L.Flatten(), L.Dense(10)),
        "dwsep": lambda: seq(L.Conv2D(16, 3, padding="same", activation="relu"),
                             L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu"),
                             L.Conv2D(32, 1, activation="relu"), L.GlobalAveragePooling2D(),
                             L.Dense(10)),
        "resnet": resnet,
        "mlp": lambda: seq(L.Flatten(), L.Dense(32, activation="relu"),
                           L.Dense(32, activation="relu"), L.Dense(10)),
        "autoenc": lambda: seq(L.Flatten(), L.Dense(32), L.BatchNormalization(), L.ReLU(),
                               L.Dense(8), L.BatchNormalization(), L.ReLU(),
                               L.Dense(32), L.BatchNormalization(), L.ReLU(), L.Dense(10)),
        "mixed": mixed,
    }


def train(make, x_tr, y_tr, epochs=40):
    import tensorflow as tf
    tf.keras.utils.set_random_seed(SEED)
    net = make()
    net.compile(optimizer=tf.keras.optimizers.Adam(3e-3),
                loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(x_tr, y_tr, batch_size=32, epochs=epochs, verbose=0, shuffle=True)
    return net


def to_tflite(net, calib: np.ndarray) -> bytes:
    import tensorflow as tf
    conv = tf.lite.TFLiteConverter.from_keras_model(net)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.representative_dataset = lambda: ([calib[i:i + 1]] for i in range(len(calib)))
    return conv.convert()


def tflite_outputs(data: bytes, x: np.ndarray) -> np.ndarray:
    import tensorflow as tf
    it = tf.lite.Interpreter(model_content=data)
    it.allocate_tensors()
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    out = []
    for k in range(len(x)):
        it.set_tensor(i, x[k:k + 1])
        it.invoke()
        out.append(it.get_tensor(o).copy())
    return np.concatenate(out)


def ort_outputs(path: pathlib.Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + 1]})[0] for i in range(len(x))])


def strip(path: pathlib.Path) -> None:
    import onnx
    m = onnx.load(str(path))
    del m.metadata_props[:]
    m.doc_string = ""
    onnx.save(m, str(path))


def main() -> None:
    import tensorflow as tf
    from make_model import load_split
    random.seed(SEED)
    np.random.seed(SEED)
    tf.keras.utils.set_random_seed(SEED)
    x_tr, y_tr, x_te, y_te = load_split()
    nhwc = lambda x: x.reshape(len(x), 8, 8, 1)     # noqa: E731 (C == 1: same values)
    calib, x_ref, y_ref = nhwc(x_tr[:N_CALIB]), nhwc(x_te[:N_REF]), y_te[:N_REF]
    ref_path = OUT / "ref.npz"
    refs = dict(np.load(ref_path)) if ref_path.exists() else {}
    assert "input" not in refs or np.array_equal(refs["input"].reshape(x_ref.shape), x_ref)
    only = sys.argv[1:] or list(nets())
    for name, make in nets().items():
        if name not in only:
            continue
        net = train(make, nhwc(x_tr), y_tr)
        one = nets(batch=1)[name]()                 # batch 1, the shape the tests run
        one.set_weights(net.get_weights())
        acc = float((net.predict(x_ref, batch_size=1, verbose=0).argmax(1) == y_ref).mean())
        data = to_tflite(one, calib)
        tfl = OUT / f"{name}_tf2onnx.tflite"
        tfl.write_bytes(data)
        dst = OUT / f"{name}_tf2onnx.onnx"
        subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--tflite", str(tfl),
                        "--output", str(dst), "--opset", "15"], check=True,
                       stdout=subprocess.DEVNULL,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        strip(dst)
        out = ort_outputs(dst, x_ref)
        lite = tflite_outputs(data, x_ref)
        refs[f"{name}_tf2onnx"] = out.astype(np.float32)
        print(f"{dst.name}: {dst.stat().st_size} bytes, {tfl.name}: {len(data)} bytes, "
              f"float acc {acc:.3f}, ORT int8 acc {(out.argmax(1) == y_ref).mean():.3f}, "
              f"TFLite int8 acc {(lite.argmax(1) == y_ref).mean():.3f}, "
              f"ORT == TFLite top-1 {(out.argmax(1) == lite.argmax(1)).mean():.3f}")
    np.savez_compressed(ref_path, **refs)


if __name__ == "__main__":
    main()
