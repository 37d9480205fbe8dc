#!/usr/bin/python3
"""A small safetensors writer and reader in plain Python, plus .npy/.npz helpers.

The format (https://huggingface.co/docs/safetensors): an 8-byte little-endian unsigned header length, a JSON header
mapping each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data section),
an optional "__metadata__" map of strings, then the raw little-endian tensor bytes. We pad the header with spaces to a
multiple of 8 so that every tensor starts 8-byte aligned, as the reference implementation does.

Supported dtypes: F32, F16 and BF16. BF16 is the upper half of a float32 after round-to-nearest-even, which is what
torch's float32 -> bfloat16 conversion does; the reader widens BF16 back to float32 (numpy has no bfloat16).
"""
import json
import struct

import numpy as np
import torch

_TORCH_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
_NUMPY_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2")}


def dtype_name(dtype):
    """'f32' / 'F32' / torch.float32 -> 'F32'."""
    if isinstance(dtype, torch.dtype):
        for name, t in _TORCH_DTYPES.items():
            if t == dtype:
                return name
        raise ValueError(f"unsupported dtype {dtype}; expected one of {list(_TORCH_DTYPES)}")
    name = str(dtype).upper()
    if name not in _TORCH_DTYPES:
        raise ValueError(f"unsupported dtype '{dtype}'; expected one of f32, f16, bf16")
    return name


def tensor_bytes(tensor, dtype):
    """Little-endian bytes of a tensor converted to F32, F16 or BF16 (round-to-nearest-even for the narrow ones)."""
    name = dtype_name(dtype)
    t = tensor.detach().to("cpu").contiguous().to(_TORCH_DTYPES[name])
    if name == "BF16":
        # numpy cannot hold bfloat16: reinterpret the 16 bits as int16 (same bytes) before leaving torch.
        return t.view(torch.int16).numpy().astype("<i2", copy=False).tobytes()
    return t.numpy().astype(_NUMPY_DTYPES[name], copy=False).tobytes()


def save_file(tensors, path, dtype="F32", metadata=None):
    """Write an ordered {name: tensor} dict; every tensor is stored as `dtype`. Keeps the dict's order."""
    name = dtype_name(dtype)
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for key, tensor in tensors.items():
        blob = tensor_bytes(tensor, name)
        header[key] = {"dtype": name, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    header_bytes += b" " * (-len(header_bytes) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for blob in blobs:
            f.write(blob)


def load_file(path):
    """Read a safetensors file into an ordered {name: float32 torch tensor} dict and its metadata."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_len).decode("utf-8"))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for key, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = entry["dtype"]
        if dtype not in _NUMPY_DTYPES:
            raise ValueError(f"{path}: tensor '{key}' has dtype {dtype}; this reader handles F32, F16 and BF16")
        raw = np.frombuffer(data[begin:end], dtype=_NUMPY_DTYPES[dtype])
        if dtype == "BF16":
            raw = (raw.astype(np.uint32) << 16).view(np.float32)
        tensors[key] = torch.from_numpy(raw.astype(np.float32).reshape(entry["shape"]))
    return tensors, metadata


def save_npy(path, array):
    """float32 (or the given integer type) C-order .npy, the only layout DJL reads."""
    np.save(path, _c_order(array))


def save_npz(path, arrays):
    """Uncompressed .npz of C-order arrays (keys in the given order)."""
    np.savez(path, **{k: _c_order(v) for k, v in arrays.items()})


def _c_order(value):
    # np.array(order="C") rather than np.ascontiguousarray, which turns a 0-d array into shape (1,).
    return np.array(_to_numpy(value), order="C")


def _to_numpy(value):
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, int):
        return np.array(value, dtype=np.int64)
    value = np.asarray(value)
    return value.astype(np.float32) if value.dtype.kind == "f" else value
