"""A plain PyTorch BERT question-answering model for bench/run.

It loads a bertqa model directory (config.json + model.safetensors, Hugging
Face tensor names) with a small safetensors reader on numpy, so the
benchmark needs nothing beyond Debian's python3-torch and python3-numpy.
The forward pass takes one unpadded sequence: input_ids and token_type_ids
of shape [1, S], and returns start and end logits of shape [1, S].
RoBERTa and DistilBERT directories load too, renamed to BERT's modules:
their products are BERT's (RoBERTa's positions start at pad_token_id + 1,
DistilBERT has no token types).
"""

import json
import math
import os
import struct

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

SAFETENSORS_DTYPES = {"F32": np.float32}


def read_safetensors(path):
    """Every tensor of a safetensors file, as numpy arrays (F32 only)."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, only F32 is read")
        start, end = info["data_offsets"]
        array = np.frombuffer(data, dtype=dtype, count=(end - start) // 4, offset=base + start)
        tensors[name] = array.reshape(info["shape"]).copy()
    return tensors


class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, x):
        batch, seq, hidden = x.shape

        def split(t):
            return t.view(batch, seq, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        return context.transpose(1, 2).reshape(batch, seq, hidden)


class DenseLayerNorm(nn.Module):
    """LayerNorm(residual + dense(x)), BERT's sublayer output."""

    def __init__(self, n_in, hidden, eps):
        super().__init__()
        self.dense = nn.Linear(n_in, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, hidden, heads, eps):
        super().__init__()
        self.self = SelfAttention(hidden, heads)
        self.output = DenseLayerNorm(hidden, hidden, eps)

    def forward(self, x):
        return self.output(self.self(x), x)


class Intermediate(nn.Module):
    def __init__(self, hidden, inter):
        super().__init__()
        self.dense = nn.Linear(hidden, inter)

    def forward(self, x):
        return F.gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, hidden, heads, inter, eps):
        super().__init__()
        self.attention = Attention(hidden, heads, eps)
        self.intermediate = Intermediate(hidden, inter)
        self.output = DenseLayerNorm(inter, hidden, eps)

    def forward(self, x):
        x = self.attention(x)
        return self.output(self.intermediate(x), x)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(
            Layer(c["hidden_size"], c["num_attention_heads"], c["intermediate_size"],
                  c["layer_norm_eps"]) for _ in range(c["num_hidden_layers"]))

    def forward(self, x):
        for layer in self.layer:
            x = layer(x)
        return x


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, input_ids, token_type_ids):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        x = (self.word_embeddings(input_ids) + self.position_embeddings(positions)
             + self.token_type_embeddings(token_type_ids))
        return self.LayerNorm(x)


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)

    def forward(self, input_ids, token_type_ids):
        return self.encoder(self.embeddings(input_ids, token_type_ids))


class BertForQA(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = Bert(c)
        self.qa_outputs = nn.Linear(c["hidden_size"], 2)

    def forward(self, input_ids, token_type_ids):
        logits = self.qa_outputs(self.bert(input_ids, token_type_ids))
        return logits[..., 0], logits[..., 1]


DISTILBERT_LAYER_NAMES = {
    "attention.q_lin": "attention.self.query", "attention.k_lin": "attention.self.key",
    "attention.v_lin": "attention.self.value", "attention.out_lin": "attention.output.dense",
    "sa_layer_norm": "attention.output.LayerNorm", "ffn.lin1": "intermediate.dense",
    "ffn.lin2": "output.dense", "output_layer_norm": "output.LayerNorm",
}


def as_bert(config, tensors):
    """A RoBERTa or DistilBERT checkpoint as the BERT of the same products."""
    family = config.get("model_type", "bert")
    if family in ("roberta", "xlm-roberta"):
        offset = config.get("pad_token_id", 1) + 1
        tensors = {"bert." + k[len("roberta."):] if k.startswith("roberta.") else k: v
                   for k, v in tensors.items()}
        tensors["bert.embeddings.position_embeddings.weight"] = \
            tensors["bert.embeddings.position_embeddings.weight"][offset:].copy()
        config = dict(config, max_position_embeddings=config["max_position_embeddings"] - offset)
    elif family == "distilbert":
        renamed = {}
        for k, v in tensors.items():
            k = k.replace("distilbert.embeddings.", "bert.embeddings.")
            if k.startswith("distilbert.transformer.layer."):
                n, rest = k[len("distilbert.transformer.layer."):].split(".", 1)
                part, param = rest.rsplit(".", 1)
                k = f"bert.encoder.layer.{n}.{DISTILBERT_LAYER_NAMES[part]}.{param}"
            renamed[k] = v
        tensors = renamed
        config = dict(config, hidden_size=config["dim"], num_hidden_layers=config["n_layers"],
                      num_attention_heads=config["n_heads"], intermediate_size=config["hidden_dim"],
                      layer_norm_eps=1e-12, type_vocab_size=1)
        tensors["bert.embeddings.token_type_embeddings.weight"] = \
            np.zeros((1, config["hidden_size"]), dtype=np.float32)
    return config, tensors


def load_model(model_dir):
    """The model of a bertqa model directory, in eval mode."""
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    config, tensors = as_bert(config, read_safetensors(os.path.join(model_dir, "model.safetensors")))
    model = BertForQA(config)
    state = {name: torch.from_numpy(array) for name, array in tensors.items()}
    model.load_state_dict(state, strict=True)
    return model.eval()


def export_onnx(model, path, seq_len):
    """torch.onnx.export with the sequence length left dynamic."""
    ids = torch.zeros((1, seq_len), dtype=torch.int64)
    with torch.inference_mode():
        torch.onnx.export(model, (ids, torch.zeros_like(ids)), path,
                          input_names=["input_ids", "token_type_ids"],
                          output_names=["start_logits", "end_logits"],
                          dynamic_axes={"input_ids": {1: "seq"}, "token_type_ids": {1: "seq"},
                                        "start_logits": {1: "seq"}, "end_logits": {1: "seq"}},
                          opset_version=14, do_constant_folding=True)
