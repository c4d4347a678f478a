"""Rewrite an ONNX graph's weight MatMuls as int8 GEMMs with per-token activation scales.

ONNX Runtime's `quantize_dynamic` scales activations per tensor, so a sentence's embedding depends on
the other sentences in its batch (measured here: cosine 0.987 mean, 0.95 worst between a clause encoded
alone and in a batch of 32). One scale per token row keeps each row independent of its neighbours and
tracks activation outliers better (retrieval overlap to fp32 0.904 vs 0.855 for per-tensor dynamic int8).
Weights are symmetric int8 per output channel; activations are shifted to uint8 (zero point 128), the
u8 x s8 form the CPU's VNNI instructions multiply fastest.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ZERO_POINT = 128


def quantize_per_token(model: onnx.ModelProto) -> int:
    """Replace every MatMul whose second input is a weight with its per-token int8 form; return how many."""
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    consts = [
        numpy_helper.from_array(np.array(ZERO_POINT, dtype=np.uint8), "pt_zero_point"),
        numpy_helper.from_array(np.array(127.0, dtype=np.float32), "pt_127"),
        numpy_helper.from_array(np.array(float(ZERO_POINT), dtype=np.float32), "pt_shift"),
        numpy_helper.from_array(np.array(1e-8, dtype=np.float32), "pt_eps"),
    ]
    nodes: list[onnx.NodeProto] = []
    quantized_inputs: set[str] = set()
    added: list[onnx.TensorProto] = []
    count = 0
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights:
            nodes.append(node)
            continue
        x, y, name = node.input[0], node.output[0], _safe(node.name or node.output[0])
        w = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)  # (in, out)
        w_scale = (np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0).astype(np.float32)
        w_q = np.clip(np.round(w / w_scale), -127, 127).astype(np.int8)
        added += [numpy_helper.from_array(w_q, f"{name}_wq"), numpy_helper.from_array(w_scale, f"{name}_ws")]
        q = f"{_safe(x)}_pt"
        if x not in quantized_inputs:
            # Q, K and V read the same hidden states: quantize them once.
            quantized_inputs.add(x)
            nodes += _quantize_rows(x, q)
        nodes += [
            helper.make_node("MatMulInteger", [f"{q}_u8", f"{name}_wq", "pt_zero_point"], [f"{name}_acc"]),
            helper.make_node("Cast", [f"{name}_acc"], [f"{name}_accf"], to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{name}_accf", f"{q}_scale"], [f"{name}_rows"]),
            helper.make_node("Mul", [f"{name}_rows", f"{name}_ws"], [y]),
        ]
        count += 1
    used = {i for n in nodes for i in n.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + consts + added)
    return count


def _quantize_rows(x: str, q: str) -> list[onnx.NodeProto]:
    """Nodes giving {q}_u8 (x as uint8, zero point 128) and {q}_scale (one scale per row of x's last axis)."""
    return [
        helper.make_node("Abs", [x], [f"{q}_abs"]),
        helper.make_node("ReduceMax", [f"{q}_abs"], [f"{q}_absmax"], axes=[-1], keepdims=1),
        helper.make_node("Max", [f"{q}_absmax", "pt_eps"], [f"{q}_range"]),
        helper.make_node("Div", [f"{q}_range", "pt_127"], [f"{q}_scale"]),
        helper.make_node("Div", [x, f"{q}_scale"], [f"{q}_scaled"]),
        helper.make_node("Round", [f"{q}_scaled"], [f"{q}_rounded"]),
        helper.make_node("Add", [f"{q}_rounded", "pt_shift"], [f"{q}_shifted"]),
        helper.make_node("Cast", [f"{q}_shifted"], [f"{q}_u8"], to=TensorProto.UINT8),
    ]


def _safe(name: str) -> str:
    """A tensor name usable as a prefix for new tensors."""
    return name.replace("/", "_").replace(":", "_").replace(".", "_")
