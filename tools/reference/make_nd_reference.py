#!/usr/bin/env python3
"""Independent reference data for clpool's pooling in spatial rank 1, 2 and 3, both layouts.

Writes small .npy fixtures and a manifest (manifest.json) into
src/test/resources/reference/nd/ (or the directory given as the only argument). Run it from the
repository root with Debian's python3-torch (PyTorch 1.13) and NumPy:

    /usr/bin/python3 tools/reference/make_nd_reference.py

Every expected output is computed in float64 by the plain NumPy reference below, which follows
../shared/SEMANTICS.md literally (output sizes, padding words, the count_include_pad divisor as
taps inside the padded input, the first NaN for indices, unpooling decoded in the output's shape,
the last value in channels-last order winning a shared target). Where PyTorch defines the same
thing, the reference is cross-checked against PyTorch in float64 and the script stops on any
difference; the manifest records for each case what it was checked against ("torch" lists the
functions) or why not ("torch_skip").

Data: float32 values that are multiples of 1/8 in [-4, 4] (so ties are common and window sums
are exact in float32), with zeros, -0.0, NaN, +inf and -inf planted at fixed positions. Every
input and output is written twice with the same data: channels-last (N, spatial..., C) and
channels-first (N, C, spatial...). Inputs are <f4, float outputs <f8 (the float64 reference),
indices <i8. The script is deterministic (seeded); rerunning it rewrites identical files.
"""

import hashlib
import itertools
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

TOLERANCE = 4e-6  # SEMANTICS.md: |got - want| <= 4e-6 * max(1, |want|)
CONVENTIONS = ("nhwc", "pytorch", "onnx", "onnx-column-major")
LAYOUTS = ("channels-last", "channels-first")


# ---------------------------------------------------------------- geometry (SEMANTICS.md)

def effective(k, d):
    return (k - 1) * d + 1


def resolve_padding(padding, spatial, window, stride, dilation):
    """Per-axis (begin, end) for 'valid', 'same', 'same-lower' or explicit [[b, e], ...]."""
    if isinstance(padding, list):
        return [tuple(p) for p in padding]
    pads = []
    for n, k, s, d in zip(spatial, window, stride, dilation):
        if padding == "valid":
            pads.append((0, 0))
            continue
        out = -(-n // s)
        total = max((out - 1) * s + effective(k, d) - n, 0)
        if padding == "same":
            pads.append((total // 2, total - total // 2))
        elif padding == "same-lower":
            pads.append((total - total // 2, total // 2))
        else:
            raise ValueError(padding)
    return pads


def out_size(n, k, s, d, b, e, ceil):
    span = n + b + e - effective(k, d)
    assert span >= 0
    if ceil:
        out = -(-span // s) + 1
        if (out - 1) * s >= n + b:
            out -= 1
    else:
        out = span // s + 1
    return out


class Geometry:
    def __init__(self, spatial, spec):
        r = len(spatial)
        self.spatial = list(spatial)
        self.window = spec["window"]
        self.stride = spec.get("stride") or list(self.window)
        self.dilation = spec.get("dilation") or [1] * r
        self.pads = resolve_padding(spec.get("padding", "valid"), spatial, self.window, self.stride,
                                    self.dilation)
        ceil = spec.get("ceil_mode", False)
        self.out = [out_size(n, k, s, d, b, e, ceil) for n, k, s, d, (b, e)
                    in zip(spatial, self.window, self.stride, self.dilation, self.pads)]
        for a in range(r):
            for o in range(self.out[a]):
                assert self.taps(a, o), "a window covers no input"

    def positions(self, a, o):
        """All tap positions of output o on axis a (possibly outside the input)."""
        start = o * self.stride[a] - self.pads[a][0]
        return [start + j * self.dilation[a] for j in range(self.window[a])]

    def taps(self, a, o):
        return [p for p in self.positions(a, o) if 0 <= p < self.spatial[a]]

    def padded_taps(self, a, o):
        """Taps inside the padded input -begin .. in+end-1 (the count_include_pad divisor)."""
        lo, hi = -self.pads[a][0], self.spatial[a] + self.pads[a][1] - 1
        return sum(1 for p in self.positions(a, o) if lo <= p <= hi)

    def windows(self):
        """(output position tuple, list of input position tuples in scan order, padded tap count)."""
        r = len(self.spatial)
        for o in itertools.product(*[range(n) for n in self.out]):
            taps = list(itertools.product(*[self.taps(a, o[a]) for a in range(r)]))
            padded = math.prod(self.padded_taps(a, o[a]) for a in range(r))
            yield o, taps, padded


# ---------------------------------------------------------------- the float64 reference

def first_max(values):
    """Index of the first maximum in scan order, or of the first NaN (SEMANTICS.md "Indices")."""
    best = None
    for i, v in enumerate(values):
        if math.isnan(v):
            return i
        if best is None or v > values[best]:
            best = i
    return best


def ref_pool(x, spec):
    """x: float64 (N, C, *spatial). Returns (values, plane indices) per SEMANTICS.md."""
    g = Geometry(x.shape[2:], spec)
    mode = spec["mode"]
    n, c = x.shape[:2]
    y = np.zeros((n, c, *g.out))
    idx = np.zeros((n, c, *g.out), dtype=np.int64)
    p = spec.get("p", 2.0)
    for o, taps, padded in g.windows():
        for b in range(n):
            for ch in range(c):
                vals = [float(x[(b, ch) + t]) for t in taps]
                if mode == "max":
                    i = first_max(vals)
                    y[(b, ch) + o] = vals[i]
                    idx[(b, ch) + o] = np.ravel_multi_index(taps[i], x.shape[2:])
                elif mode == "avg":
                    div = padded if spec.get("count_include_pad", False) else len(taps)
                    y[(b, ch) + o] = total(vals) / div
                elif mode == "lp":
                    y[(b, ch) + o] = lp(vals, p)
                else:
                    raise ValueError(mode)
    return y, idx


def lp(vals, p):
    if any(map(math.isnan, vals)):
        return math.nan
    if any(map(math.isinf, vals)):
        return math.inf
    return math.fsum(abs(v) ** p for v in vals) ** (1.0 / p)


def convert_indices(plane, convention, n, c, spatial):
    """Plane indices (PyTorch's numbering) in one of SEMANTICS.md's four conventions."""
    out = np.zeros_like(plane)
    size = math.prod(spatial)
    for pos in np.ndindex(plane.shape):
        b, ch = pos[0], pos[1]
        q = int(plane[pos])
        if convention == "pytorch":
            v = q
        elif convention == "nhwc":
            v = q * c + ch
        elif convention == "onnx":
            v = (b * c + ch) * size + q
        elif convention == "onnx-column-major":
            coords = np.unravel_index(q, spatial)
            v = (b * c + ch) * size + int(np.ravel_multi_index(coords[::-1], spatial[::-1]))
        else:
            raise ValueError(convention)
        out[pos] = v
    return out


def ref_backward(x, dy, spec):
    g = Geometry(x.shape[2:], spec)
    n, c = x.shape[:2]
    dx = np.zeros_like(x)
    _, idx = ref_pool(x, dict(spec, mode="max")) if spec["mode"] == "max" else (None, None)
    for o, taps, padded in g.windows():
        for b in range(n):
            for ch in range(c):
                grad = float(dy[(b, ch) + o])
                if spec["mode"] == "max":
                    dx[(b, ch) + np.unravel_index(int(idx[(b, ch) + o]), x.shape[2:])] += grad
                else:
                    div = padded if spec.get("count_include_pad", False) else len(taps)
                    for t in taps:
                        dx[(b, ch) + t] += grad / div
    return dx


def ref_adaptive(x, mode, size):
    spatial = x.shape[2:]
    n, c = x.shape[:2]
    y = np.zeros((n, c, *size))
    ranges = [[range(i * s // o, -(-(i + 1) * s // o)) for i in range(o)] for s, o in zip(spatial, size)]
    for o in itertools.product(*[range(v) for v in size]):
        taps = list(itertools.product(*[ranges[a][o[a]] for a in range(len(size))]))
        for b in range(n):
            for ch in range(c):
                vals = [float(x[(b, ch) + t]) for t in taps]
                y[(b, ch) + o] = vals[first_max(vals)] if mode == "max" else mean(vals)
    return y


def total(vals):
    """The exact sum; NaN, +inf or -inf (inf - inf is NaN) as IEEE sums give them."""
    if any(map(math.isnan, vals)) or any(map(math.isinf, vals)):
        return sum(vals)
    return math.fsum(vals)


def mean(vals):
    return total(vals) / len(vals)


def ref_global(x, mode, p):
    n, c = x.shape[:2]
    y = np.zeros((n, c) + (1,) * (x.ndim - 2))
    for b in range(n):
        for ch in range(c):
            vals = [float(v) for v in x[b, ch].ravel()]
            y[(b, ch) + (0,) * (x.ndim - 2)] = (vals[first_max(vals)] if mode == "max"
                                                 else mean(vals) if mode == "avg" else lp(vals, p))
    return y


def ref_unpool(values, indices, convention, out_spatial):
    """Writes in channels-last element order, so that the last such value wins a shared target."""
    n, c = values.shape[:2]
    size = math.prod(out_spatial)
    out = np.zeros((n, c, *out_spatial))
    flat = out.reshape(-1)  # channels-first order over the whole tensor
    cl_order = np.moveaxis(np.arange(values.size).reshape(values.shape), 1, -1).ravel()
    for e in cl_order:
        pos = np.unravel_index(e, values.shape)
        b, ch = pos[0], pos[1]
        q = int(indices[pos])
        if convention == "pytorch":
            assert 0 <= q < size
            target = (b * c + ch) * size + q
        elif convention == "nhwc":
            assert 0 <= q < size * c
            target = (b * c + q % c) * size + q // c
        elif convention == "onnx":
            assert 0 <= q < n * c * size
            target = q
        else:
            assert 0 <= q < n * c * size
            plane, rest = divmod(q, size)
            coords = np.unravel_index(rest, out_spatial[::-1])[::-1]
            target = plane * size + int(np.ravel_multi_index(coords, out_spatial))
        flat[target] = values[pos]
    return out


# ---------------------------------------------------------------- PyTorch cross-checks

def torch_fn(kind, rank):
    return getattr(F, "%s%dd" % (kind, rank))


def same_with_nan(a, b):
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def close(a, b):
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


def multi_nan_mask(x, spec):
    """True at each output (N, C, *out) whose window holds several NaNs (PyTorch takes the last)."""
    g = Geometry(x.shape[2:], spec)
    mask = np.zeros((x.shape[0], x.shape[1], *g.out), dtype=bool)
    for o, taps, _ in g.windows():
        for b in range(x.shape[0]):
            for ch in range(x.shape[1]):
                mask[(b, ch) + o] = sum(math.isnan(float(x[(b, ch) + t])) for t in taps) > 1
    return mask


def torch_pool_check(x, spec, y, idx):
    """Returns (the PyTorch functions the case agrees with, None) or (None, why it is not checked)."""
    rank = x.ndim - 2
    mode = spec["mode"]
    pads = Geometry(x.shape[2:], spec).pads
    t = torch.from_numpy(x)
    pad = [b for b, _ in pads]
    note = ""
    if any(b != e for b, e in pads):
        # Asymmetric padding as an explicit F.pad (-inf for max, zeros for an average that counts
        # the padding) and no pooling padding; PyTorch's ceil rule would then see no padding.
        if spec.get("ceil_mode", False) or mode == "lp" or (mode == "avg" and not spec.get("count_include_pad")):
            return None, "asymmetric padding: PyTorch pads both sides equally"
        flat = [v for b, e in reversed(pads) for v in (b, e)]
        t = F.pad(t, flat, value=-math.inf if mode == "max" else 0.0)
        pad = [0] * rank
        note = " on F.pad(x) (asymmetric padding; values only)" if mode == "max" else " on F.pad(x)"
    if any(p > k // 2 for p, k in zip(pad, spec["window"])):
        return None, "padding above half the window: PyTorch refuses it"
    kw = dict(kernel_size=spec["window"], stride=spec.get("stride") or spec["window"], padding=pad,
              ceil_mode=spec.get("ceil_mode", False))
    if mode == "max":
        ty, ti = torch_fn("max_pool", rank)(t, dilation=spec.get("dilation") or 1, return_indices=True, **kw)
        assert same_with_nan(ty.numpy(), y), "max values differ from PyTorch"
        if note:
            return ["max_pool%dd%s" % (rank, note)], None
        mask = multi_nan_mask(x, spec)
        assert np.array_equal(ti.numpy()[~mask], idx[~mask]), "max indices differ from PyTorch"
        if mask.any():
            note = " (indices except %d windows with several NaNs: PyTorch takes the last)" % mask.sum()
        return ["max_pool%dd%s" % (rank, note)], None
    if any(d != 1 for d in spec.get("dilation") or [1]):
        return None, "dilation: PyTorch's %s pooling has none" % mode
    if mode == "avg":
        ty = torch_fn("avg_pool", rank)(t, count_include_pad=spec.get("count_include_pad", False), **kw)
        assert close(ty.numpy(), y), "avg differs from PyTorch"
        return ["avg_pool%dd%s" % (rank, note)], None
    if any(pad) or spec.get("ceil_mode", False):
        return None, "PyTorch's lp_pool has no padding and no usable ceil mode"
    # PyTorch raises x to p without abs (odd p, negative x) and has no lp_pool3d: check on |x|.
    p = spec.get("p", 2.0)
    s = spec.get("stride") or spec["window"]
    ty = torch_fn("avg_pool", rank)(t.abs() ** p, kernel_size=spec["window"], stride=s) * math.prod(spec["window"])
    assert close((ty ** (1.0 / p)).numpy(), y), "lp differs from PyTorch"
    return ["avg_pool%dd(|x|^p)*k^(1/p)" % rank], None


# ---------------------------------------------------------------- data

def data(shape, seed, specials=True):
    rng = np.random.default_rng(seed)
    x = rng.integers(-32, 33, size=shape).astype(np.float64) / 8.0
    if specials and len(shape) > 2:
        # One plane of values <= 0 with 0.0 and -0.0 side by side: a max over zeros keeps the
        # sign of the first (bit-exact results must keep it).
        plane = x[0, -1].reshape(-1)
        plane[:] = -np.abs(plane)
        p = plane.size
        plane[p // 3], plane[p // 3 + 1], plane[2 * p // 3], plane[2 * p // 3 + 1] = -0.0, 0.0, 0.0, -0.0
    if specials:
        flat = x.reshape(-1)
        m = flat.size
        for pos, v in ((m // 7, math.nan), (m // 3, math.inf), (m // 2, -math.inf), (2 * m // 3, -0.0),
                       (3 * m // 4, 0.0), (5 * m // 6, math.nan), (5 * m // 6 + 1, math.nan)):
            flat[pos] = v
    return x.astype(np.float32).astype(np.float64)


SHAPES = {1: (2, 3, [11]), 2: (2, 3, [7, 6]), 3: (2, 2, [5, 4, 6])}


def per_axis(rank, *values):
    """The first `rank` of the given per-axis values, innermost last (so 1-D gets the first)."""
    return list(values[:rank])


# ---------------------------------------------------------------- writing

class Writer:
    def __init__(self, out_dir):
        self.dir = out_dir
        self.cases = []
        self.bytes = 0
        self.written = {}

    def array(self, case, name, a, dtype):
        files = {}
        for layout in LAYOUTS:
            arr = np.moveaxis(a, 1, -1) if layout == "channels-last" else a
            arr = np.ascontiguousarray(arr.astype(dtype))
            key = (arr.dtype.str, arr.shape, arr.tobytes())
            if key not in self.written:  # an array another case wrote already is shared
                fname = "%s.%s.%s.npy" % (case, name, "cl" if layout == "channels-last" else "cf")
                path = os.path.join(self.dir, fname)
                np.save(path, arr)
                self.bytes += os.path.getsize(path)
                self.written[key] = fname
            files[layout] = self.written[key]
        return files

    def add(self, name, op, rank, spec, inputs, outputs, torch_check, **extra):
        case = {"name": name, "op": op, "rank": rank}
        case.update(spec)
        case.update(extra)
        case["inputs"] = {k: self.array(name, k, a, dt) for k, (a, dt) in inputs.items()}
        case["outputs"] = {k: self.array(name, k, a, dt) for k, (a, dt) in outputs.items()}
        checked, reason = torch_check
        if checked:
            case["torch"] = checked
        else:
            case["torch_skip"] = reason
        self.cases.append(case)


F4, F8, I8 = "<f4", "<f8", "<i8"


def pool_specs(rank):
    r = rank
    return {
        "max_window": {"mode": "max", "window": per_axis(r, 2, 3, 2)},
        "max_pad_stride": {"mode": "max", "window": per_axis(r, 3, 3, 3), "stride": per_axis(r, 2, 1, 2),
                           "padding": [[1, 1]] * r},
        "max_ceil_dilation_asym": {"mode": "max", "window": per_axis(r, 2, 3, 2), "stride": per_axis(r, 2, 2, 3),
                                   "dilation": per_axis(r, 2, 1, 2), "padding": per_axis(r, [1, 0], [0, 2], [2, 1]),
                                   "ceil_mode": True},
        "max_dilation_sym": {"mode": "max", "window": per_axis(r, 3, 2, 2), "stride": per_axis(r, 1, 2, 1),
                             "dilation": per_axis(r, 2, 2, 3), "padding": [[1, 1]] * r, "ceil_mode": True},
        "max_same": {"mode": "max", "window": per_axis(r, 3, 2, 4), "stride": per_axis(r, 2, 2, 3),
                     "padding": "same"},
        "max_same_lower": {"mode": "max", "window": per_axis(r, 4, 3, 2), "stride": per_axis(r, 3, 1, 2),
                           "padding": "same-lower"},
        "avg_pad": {"mode": "avg", "window": per_axis(r, 3, 3, 3), "stride": per_axis(r, 2, 2, 2),
                    "padding": [[1, 1]] * r},
        "avg_pad_include": {"mode": "avg", "window": per_axis(r, 3, 3, 3), "stride": per_axis(r, 2, 2, 2),
                            "padding": [[1, 1]] * r, "count_include_pad": True},
        "avg_ceil_include": {"mode": "avg", "window": per_axis(r, 3, 2, 3), "stride": per_axis(r, 3, 2, 2),
                             "padding": per_axis(r, [1, 1], [1, 1], [0, 0]), "ceil_mode": True,
                             "count_include_pad": True},
        "avg_ceil": {"mode": "avg", "window": per_axis(r, 3, 2, 3), "stride": per_axis(r, 3, 2, 2),
                     "padding": per_axis(r, [1, 1], [1, 1], [0, 0]), "ceil_mode": True},
        "avg_dilation_include": {"mode": "avg", "window": per_axis(r, 3, 2, 2), "stride": per_axis(r, 2, 1, 2),
                                 "dilation": per_axis(r, 2, 3, 2), "padding": per_axis(r, [2, 1], [0, 2], [1, 1]),
                                 "count_include_pad": True},
        "avg_dilation_ceil": {"mode": "avg", "window": per_axis(r, 2, 2, 3), "stride": per_axis(r, 3, 2, 2),
                              "dilation": per_axis(r, 3, 2, 2), "padding": per_axis(r, [1, 2], [1, 0], [0, 1]),
                              "ceil_mode": True},
        "avg_asym_include": {"mode": "avg", "window": per_axis(r, 4, 3, 2), "stride": per_axis(r, 2, 2, 1),
                             "padding": per_axis(r, [0, 3], [2, 1], [1, 0]), "count_include_pad": True},
        "avg_same": {"mode": "avg", "window": per_axis(r, 3, 2, 4), "stride": per_axis(r, 2, 2, 3),
                     "padding": "same"},
        "avg_same_lower_include": {"mode": "avg", "window": per_axis(r, 4, 3, 2), "stride": per_axis(r, 3, 1, 2),
                                   "padding": "same-lower", "count_include_pad": True},
        "lp2": {"mode": "lp", "window": per_axis(r, 2, 2, 3), "stride": per_axis(r, 1, 2, 1), "p": 2.0},
        "lp3_pad_dilation_ceil": {"mode": "lp", "window": per_axis(r, 3, 2, 2), "stride": per_axis(r, 2, 2, 3),
                                  "dilation": per_axis(r, 2, 1, 2), "padding": per_axis(r, [1, 2], [0, 1], [1, 0]),
                                  "ceil_mode": True, "p": 3.0},
        "lp3_same": {"mode": "lp", "window": per_axis(r, 3, 3, 2), "stride": per_axis(r, 2, 1, 2),
                     "padding": "same", "p": 3.0},
    }


def build(out_dir):
    w = Writer(out_dir)
    for rank in (1, 2, 3):
        n, c, spatial = SHAPES[rank]
        shape = (n, c, *spatial)
        seed = 1000 * rank
        for i, (label, spec) in enumerate(pool_specs(rank).items()):
            x = data(shape, seed + i)
            y, idx = ref_pool(x, spec)
            name = "pool_%dd_%s" % (rank, label)
            check = torch_pool_check(x, spec, y, idx)
            w.add(name, "pool", rank, spec, {"x": (x, F4)}, {"y": (y, F8)}, check)
            if spec["mode"] == "max" and label in ("max_pad_stride", "max_ceil_dilation_asym", "max_same_lower"):
                for conv in CONVENTIONS:
                    ind = convert_indices(idx, conv, n, c, spatial)
                    w.add("%s_indices_%s" % (name, conv), "pool_with_indices", rank, spec, {"x": (x, F4)},
                          {"y": (y, F8), "indices": (ind, I8)}, check, index_convention=conv)
        add_backward(w, rank, shape, seed + 100)
        add_adaptive(w, rank, shape, seed + 200)
        add_global(w, rank, shape, seed + 300)
        add_unpool(w, rank, shape, seed + 400)
    return w


def add_backward(w, rank, shape, seed):
    r = rank
    specs = {
        "max_overlap": {"mode": "max", "window": per_axis(r, 3, 3, 2), "stride": per_axis(r, 2, 1, 1),
                        "padding": [[1, 1]] * r},
        "max_dilation_ceil_asym": {"mode": "max", "window": per_axis(r, 2, 3, 2), "stride": per_axis(r, 1, 2, 2),
                                   "dilation": per_axis(r, 2, 1, 2), "padding": per_axis(r, [1, 0], [0, 2], [1, 1]),
                                   "ceil_mode": True},
        "avg_include_ceil": {"mode": "avg", "window": per_axis(r, 3, 3, 3), "stride": per_axis(r, 2, 2, 2),
                             "padding": [[1, 1]] * r, "ceil_mode": True, "count_include_pad": True},
        "avg_dilation_include": {"mode": "avg", "window": per_axis(r, 3, 2, 2), "stride": per_axis(r, 1, 2, 1),
                                 "dilation": per_axis(r, 2, 2, 3), "padding": per_axis(r, [2, 0], [1, 1], [0, 2]),
                                 "count_include_pad": True},
        "avg_same": {"mode": "avg", "window": per_axis(r, 3, 2, 3), "stride": per_axis(r, 2, 1, 2),
                     "padding": "same"},
    }
    for i, (label, spec) in enumerate(specs.items()):
        x = data(shape, seed + i)
        g = Geometry(shape[2:], spec)
        dy = data((shape[0], shape[1], *g.out), seed + 50 + i, specials=False)
        dx = ref_backward(x, dy, spec)
        check = torch_backward_check(x, dy, spec, dx)
        w.add("backward_%dd_%s" % (rank, label), "backward", rank, spec,
              {"x": (x, F4), "grad_output": (dy, F4)}, {"grad_input": (dx, F8)}, check)


def torch_backward_check(x, dy, spec, dx):
    rank = x.ndim - 2
    note = ""
    if spec["mode"] == "max":
        mask = multi_nan_mask(x, spec)
        if mask.any():
            # PyTorch routes such a window's gradient to its last NaN: compare with those zeroed.
            dy = np.where(mask, 0.0, dy)
            dx = ref_backward(x, dy, spec)
            note = " (gradient of %d windows with several NaNs zeroed)" % mask.sum()
    pads = Geometry(x.shape[2:], spec).pads
    if any(b != e for b, e in pads) or (spec["mode"] == "avg" and spec.get("dilation")):
        return None, "asymmetric padding or dilated average: not expressible in PyTorch"
    t = torch.from_numpy(x).requires_grad_(True)
    kw = dict(kernel_size=spec["window"], stride=spec.get("stride") or spec["window"], padding=[b for b, _ in pads],
              ceil_mode=spec.get("ceil_mode", False))
    if spec["mode"] == "max":
        out = torch_fn("max_pool", rank)(t, dilation=spec.get("dilation") or 1, **kw)
    else:
        out = torch_fn("avg_pool", rank)(t, count_include_pad=spec.get("count_include_pad", False), **kw)
    out.backward(torch.from_numpy(dy))
    assert close(t.grad.numpy(), dx), "backward differs from PyTorch"
    return ["%s_pool%dd backward%s" % (spec["mode"], rank, note)], None


def add_adaptive(w, rank, shape, seed):
    sizes = {1: [[4], [15]], 2: [[3, 4], [9, 2]], 3: [[2, 3, 4], [7, 4, 9]]}[rank]
    for i, size in enumerate(sizes):
        for mode in ("avg", "max"):
            x = data(shape, seed + i)
            y = ref_adaptive(x, mode, size)
            ty = torch_fn("adaptive_%s_pool" % mode, rank)(torch.from_numpy(x), size)
            if mode == "max":
                ty = ty[0] if isinstance(ty, tuple) else ty
                assert same_with_nan(ty.numpy(), y), "adaptive max differs from PyTorch"
            else:
                assert close(ty.numpy(), y), "adaptive avg differs from PyTorch"
            name = "adaptive_%dd_%s_%s" % (rank, mode, "x".join(map(str, size)))
            w.add(name, "adaptive", rank, {"mode": mode, "output_size": size}, {"x": (x, F4)}, {"y": (y, F8)},
                  (["adaptive_%s_pool%dd" % (mode, rank)], None))


def add_global(w, rank, shape, seed):
    for i, (mode, p) in enumerate((("avg", None), ("max", None), ("lp", 2.0), ("lp", 3.0))):
        x = data(shape, seed + i)
        # One plane free of NaN and infinity, so that not every result is NaN.
        x[0, 0] = data(x[0, 0].shape, seed + 9, specials=False)
        y = ref_global(x, mode, p)
        t = torch.from_numpy(x)
        dims = tuple(range(2, x.ndim))
        if mode == "avg":
            ty = t.mean(dim=dims, keepdim=True)
        elif mode == "max":
            ty = t.amax(dim=dims, keepdim=True)
        else:
            ty = (t.abs() ** p).sum(dim=dims, keepdim=True) ** (1.0 / p)
        ok = same_with_nan(ty.numpy(), y) if mode == "max" else close(ty.numpy(), y)
        assert ok, "global %s differs from PyTorch" % mode
        spec = {"mode": mode}
        if p is not None:
            spec["p"] = p
        label = mode if p is None else "lp%d" % p
        w.add("global_%dd_%s" % (rank, label), "global", rank, spec, {"x": (x, F4)}, {"y": (y, F8)},
              (["mean" if mode == "avg" else "amax" if mode == "max" else "sum(|x|^p)^(1/p)"], None))


def add_unpool(w, rank, shape, seed):
    n, c, spatial = shape[0], shape[1], list(shape[2:])
    r = rank
    # 1. Round trip from max pooling with indices, default output size, every convention.
    spec = {"window": per_axis(r, 2, 2, 2), "stride": per_axis(r, 2, 2, 2), "padding": [[0, 0]] * r}
    x = data(tuple(shape), seed)
    y, plane = ref_pool(x, dict(spec, mode="max"))
    default = [(o - 1) * s + k - b - e for o, s, k, (b, e) in zip(y.shape[2:], spec["stride"], spec["window"],
                                                                  spec["padding"])]
    for conv in CONVENTIONS:
        # Indices decoded in the default (even) output shape: pooled from that shape's input.
        xs = x[(slice(None), slice(None)) + tuple(slice(0, d) for d in default)]
        ys, ps = ref_pool(np.ascontiguousarray(xs), dict(spec, mode="max"))
        ind = convert_indices(ps, conv, n, c, default)
        out = ref_unpool(ys, ind, conv, default)
        check = torch_unpool_check(ys, ps, spec, default, out) if conv == "pytorch" else (
            None, "PyTorch's max_unpool takes plane indices only")
        w.add("unpool_%dd_roundtrip_%s" % (rank, conv), "unpool", rank, spec,
              {"values": (ys, F4), "indices": (ind, I8)}, {"x": (out, F8)}, check, index_convention=conv)
    # 2. A given output size: the odd-sized input's own shape, its indices come back to their place.
    for conv in ("pytorch", "onnx-column-major"):
        ind = convert_indices(plane, conv, n, c, spatial)
        out = ref_unpool(y, ind, conv, spatial)
        check = torch_unpool_check(y, plane, spec, spatial, out) if conv == "pytorch" else (
            None, "PyTorch's max_unpool takes plane indices only")
        w.add("unpool_%dd_output_size_%s" % (rank, conv), "unpool", rank, spec,
              {"values": (y, F4), "indices": (ind, I8)}, {"x": (out, F8)}, check, index_convention=conv,
              output_size=spatial)
    # 3. Duplicate targets with distinct values: the last value in channels-last order wins,
    #    across channels too where the convention allows it; padding in the spec.
    spec = {"window": per_axis(r, 3, 2, 3), "stride": per_axis(r, 2, 2, 2), "padding": per_axis(r, [1, 0], [0, 1],
                                                                                                  [1, 1])}
    ins = [max(2, s // 2) for s in spatial]
    outs = [(i - 1) * s + k - b - e for i, s, k, (b, e) in zip(ins, spec["stride"], spec["window"], spec["padding"])]
    size = math.prod(outs)
    rng = np.random.default_rng(seed + 7)
    for conv in CONVENTIONS:
        vals = (rng.permutation(n * c * math.prod(ins)).astype(np.float64) / 8.0 - 2.0).reshape((n, c, *ins))
        vals.reshape(-1)[3] = -0.0
        limit = {"pytorch": size, "nhwc": size * c}.get(conv, n * c * size)
        # Few distinct targets, so that most of them are named several times.
        ind = rng.integers(0, min(limit, 5 if conv == "pytorch" else 7), size=vals.shape).astype(np.int64)
        ind.reshape(-1)[-1] = limit - 1  # the last element of the range is inside the output
        out = ref_unpool(vals, ind, conv, outs)
        w.add("unpool_%dd_duplicates_%s" % (rank, conv), "unpool", rank, spec,
              {"values": (vals, F4), "indices": (ind, I8)}, {"x": (out, F8)},
              (None, "PyTorch leaves the winner of a shared target unspecified"), index_convention=conv)


def torch_unpool_check(values, plane, spec, out_spatial, out):
    rank = values.ndim - 2
    t = torch_fn("max_unpool", rank)(torch.from_numpy(values), torch.from_numpy(plane), spec["window"],
                                     stride=spec["stride"], padding=[b for b, _ in spec["padding"]],
                                     output_size=out_spatial)
    assert same_with_nan(t.numpy(), out), "unpool differs from PyTorch"
    return ["max_unpool%dd" % rank], None


def onnx_self_check(root):
    """Checks the reference itself against the ONNX pooling node tests of every rank (when present)."""
    onnx_dir = os.path.join(root, "..", "shared", "conformance", "onnx")
    if not os.path.isdir(onnx_dir):
        print("ONNX self-check skipped: %s not found" % onnx_dir)
        return 0
    checked = 0
    for fname in sorted(os.listdir(onnx_dir)):
        if not fname.endswith(".json"):
            continue
        with open(os.path.join(onnx_dir, fname)) as f:
            case = json.load(f)
        if case["op"] not in ("MaxPool", "AveragePool", "LpPool"):
            continue
        a = case["attributes_with_defaults"]
        x = onnx_array(case["inputs"][0])
        r = x.ndim - 2
        auto = {"SAME_UPPER": "same", "SAME_LOWER": "same-lower", "VALID": "valid"}.get(a["auto_pad"])
        padding = auto or [[a["pads"][i], a["pads"][i + r]] for i in range(r)]
        spec = {"mode": {"MaxPool": "max", "AveragePool": "avg", "LpPool": "lp"}[case["op"]],
                "window": a["kernel_shape"], "stride": a["strides"], "dilation": a["dilations"], "padding": padding,
                "ceil_mode": a.get("ceil_mode", 0) == 1, "count_include_pad": a.get("count_include_pad", 0) == 1,
                "p": float(a.get("p", 2))}
        y, idx = ref_pool(x, spec)
        want = onnx_array(case["outputs"][0])
        tol = case["tolerance"]
        if spec["mode"] == "max":
            assert same_with_nan(y.astype(np.float32).astype(np.float64), want), fname
        else:
            assert np.allclose(y, want, rtol=tol["rtol"], atol=tol["atol"], equal_nan=True), fname
        if len(case["outputs"]) > 1:
            order = "onnx-column-major" if a.get("storage_order", 0) == 1 else "onnx"
            conv = convert_indices(idx, order, x.shape[0], x.shape[1], list(x.shape[2:]))
            assert np.array_equal(conv, onnx_array(case["outputs"][1])), fname + " indices"
        checked += 1
    return checked


def onnx_array(t):
    values = [float(v) if not isinstance(v, str) else {"NaN": math.nan, "Infinity": math.inf,
                                                       "-Infinity": -math.inf}[v] for v in t["data"]]
    stored = np.float32 if t.get("dtype", "float32") == "float32" else np.float64
    return np.array(values, dtype=stored).astype(np.float64).reshape(t["shape"])


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "src", "test", "resources", "reference",
                                                                  "nd")
    print("reference agrees with %d ONNX pooling node tests" % onnx_self_check(root))
    os.makedirs(out_dir, exist_ok=True)
    for f in os.listdir(out_dir):
        if f.endswith(".npy") or f == "manifest.json":
            os.remove(os.path.join(out_dir, f))
    w = build(out_dir)
    manifest = {
        "generator": "tools/reference/make_nd_reference.py",
        "semantics": "../shared/SEMANTICS.md",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "tolerance": TOLERANCE,
        "layouts": {"channels-last": "N, spatial..., C (.cl.npy)", "channels-first": "N, C, spatial... (.cf.npy)"},
        "cases": w.cases,
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=False)
        f.write("\n")
    digest = hashlib.sha256()
    for name in sorted(os.listdir(out_dir)):
        with open(os.path.join(out_dir, name), "rb") as f:
            digest.update(f.read())
    print("%d cases, %d .npy bytes, sha256 %s" % (len(w.cases), w.bytes, digest.hexdigest()[:16]))


if __name__ == "__main__":
    main()
