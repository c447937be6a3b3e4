"""RNN, LSTM, GRU and their cells with torch's signatures, layouts and init; backpropagation
through time by hand.

One machinery runs every recurrent layer: ``_forward_direction`` projects the inputs of all
time steps in one GEMM, then loops over time with one GEMM per step (h @ W_hh^T, all gates
fused); ``_backward_direction`` loops back, and after the loop gets the weight gradients
in one GEMM each from the stacked per-step gate gradients. What differs between RNN, LSTM
and GRU is the gate math of one step, which a kernel class supplies (``step`` forward,
``step_backward`` back), working in small per-step buffers that stay in cache (computing the
activation derivatives for all steps at once was slower: large temporaries).
Kernels index their buffers by time t; a reverse direction only walks t backwards.
An LSTM with ``proj_size`` P (Sak et al., 2014) projects each hidden state, h = W_hr (o tanh(c)):
h, the output and the next step's recurrent input have P features, c keeps hidden_size.
Twin of torch.nn.RNN/LSTM/GRU and RNNCell/LSTMCell/GRUCell.
"""
import math
import numbers
import warnings

import numpy as np

from . import functional as F
from . import init
from .module import Module, Parameter, _describe, check_array, check_grad, check_size, factory_dtype, require_forward


def _sigmoid(x, out):
    np.negative(x, out=out)
    np.exp(out, out=out)  # overflows to inf for very negative x: 1 / inf = 0 is right
    out += 1
    return np.reciprocal(out, out=out)


class _Kernel:
    """Buffers and gate math of one direction of one layer over one sequence (T, N, H).

    ``hs`` holds T + 1 hidden states of ``out_size`` features (H, or P with a projection);
    ``h_prev[t]`` and ``h_out[t]`` are the state before and after step t, views that swap ends
    for a reverse direction. Per-step scratch buffers (N, *) are allocated once and stay in
    cache. The Elman RNN (tanh) is the base.
    """

    gates = 1  # gate blocks in W_ih / W_hh: weight_ih is (gates * H, input)
    shared_gate_grads = True  # d(pre-activation) is the same for the W_ih and the W_hh side

    def __init__(self, T, N, H, dtype, reverse, out_size=None):
        self.T, self.N, self.H, self.dtype = T, N, H, dtype
        self.out_size = H if out_size is None else out_size
        self.order = range(T - 1, -1, -1) if reverse else range(T)
        self.hs = np.empty((T + 1, N, self.out_size), dtype)
        self.h_prev, self.h_out = (self.hs[1:], self.hs[:-1]) if reverse else (self.hs[:-1], self.hs[1:])

    def start(self, state0):
        self.h_prev[self.order[0]] = state0[0]

    def final(self):
        return (self.h_out[self.order[-1]],)

    def bias(self, b_ih, b_hh):
        """The bias added to every step's input projection: b_ih + b_hh, where the gate math allows."""
        return b_ih + b_hh if b_ih is not None else None

    def step(self, t, gx, gh):  # gx (N, G) input projection + bias, gh (N, G) = h_prev @ W_hh^T
        np.tanh(np.add(gx, gh, out=self.h_out[t]), out=self.h_out[t])

    def start_backward(self, dcarried):
        self._deriv = np.empty((self.N, self.H), self.dtype)

    def step_backward(self, t, dh, dgx, dgh):
        """Write d(pre-activation) of step t into dgx (and dgh); return dh_prev's direct term (or None)."""
        deriv = np.multiply(self.h_out[t], self.h_out[t], out=self._deriv)
        np.subtract(1, deriv, out=deriv)  # tanh' = 1 - h^2
        np.multiply(dh, deriv, out=dgx)

    def carried_grads(self):
        return ()

    def param_grads(self):
        """Gradients of parameters the kernel owns beyond W_ih, W_hh and the biases, by stem name."""
        return {}


class _ReLUKernel(_Kernel):
    def step(self, t, gx, gh):
        np.maximum(np.add(gx, gh, out=self.h_out[t]), 0, out=self.h_out[t])

    def step_backward(self, t, dh, dgx, dgh):
        np.multiply(dh, self.h_out[t] > 0, out=dgx)  # torch's relu' is 0 at 0


class _LSTMKernel(_Kernel):
    """Gates i, f, g, o: c = f c_prev + i g, h = o tanh(c)."""

    gates = 4

    def __init__(self, T, N, H, dtype, reverse, out_size=None):
        super().__init__(T, N, H, dtype, reverse, out_size)
        self.cs = np.empty((T + 1, N, H), dtype)
        self.c_prev, self.c_out = (self.cs[1:], self.cs[:-1]) if reverse else (self.cs[:-1], self.cs[1:])
        self.acts = np.empty((T, N, 4 * H), dtype)  # i, f, g, o after their nonlinearities
        self.tanh_c = np.empty((T, N, H), dtype)
        self.ms = self.h_out  # o tanh(c): the hidden state itself, unless a subclass projects it
        self._pre, self._tmp = np.empty((N, 4 * H), dtype), np.empty((N, H), dtype)

    def start(self, state0):
        super().start(state0)
        self.c_prev[self.order[0]] = state0[1]

    def final(self):
        return self.h_out[self.order[-1]], self.c_out[self.order[-1]]

    def _gates(self, t):
        H, a = self.H, self.acts[t]
        return a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]

    def step(self, t, gx, gh):
        H = self.H
        pre = np.add(gx, gh, out=self._pre)
        _sigmoid(pre, self.acts[t])  # i, f, o; the g block is overwritten next
        i, f, g, o = self._gates(t)
        np.tanh(pre[:, 2 * H:3 * H], out=g)
        c = np.multiply(f, self.c_prev[t], out=self.c_out[t])
        c += np.multiply(i, g, out=self._tmp)
        np.multiply(o, np.tanh(c, out=self.tanh_c[t]), out=self.ms[t])

    def start_backward(self, dcarried):
        self.dc = np.zeros((self.N, self.H), self.dtype) if dcarried[0] is None else dcarried[0].copy()
        self._deriv = np.empty((self.N, 4 * self.H), self.dtype)

    def step_backward(self, t, dh, dgx, dgh):  # dh: the gradient of o tanh(c), (N, H)
        H, dc, tanh_c, tmp = self.H, self.dc, self.tanh_c[t], self._tmp
        i, f, g, o = self._gates(t)
        np.multiply(tanh_c, tanh_c, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dh
        dc += tmp  # dc += dh o tanh'(c)
        np.multiply(dc, g, out=dgx[:, :H])  # di, df, dg, do: gradients of the gates' outputs
        np.multiply(dc, self.c_prev[t], out=dgx[:, H:2 * H])
        np.multiply(dc, i, out=dgx[:, 2 * H:3 * H])
        np.multiply(dh, tanh_c, out=dgx[:, 3 * H:])
        deriv = np.subtract(1, self.acts[t], out=self._deriv)
        deriv *= self.acts[t]  # sigmoid' = s (1 - s) ...
        np.multiply(g, g, out=deriv[:, 2 * H:3 * H])
        np.subtract(1, deriv[:, 2 * H:3 * H], out=deriv[:, 2 * H:3 * H])  # ... but tanh' = 1 - g^2 for g
        dgx *= deriv  # (N, 4H) gradients of the pre-activations
        dc *= f  # now dc_prev, carried to the step before

    def carried_grads(self):
        return (self.dc,)


class _LSTMProjectionKernel(_LSTMKernel):
    """LSTM with projections: m = o tanh(c) (N, H), then h = m W_hr^T (N, P)."""

    def __init__(self, T, N, H, dtype, reverse, w_hr):
        super().__init__(T, N, H, dtype, reverse, out_size=w_hr.shape[0])
        self.w_hr = w_hr  # (P, H)
        self.ms = np.empty((T, N, H), dtype)

    def step(self, t, gx, gh):
        super().step(t, gx, gh)  # writes m into ms[t]
        np.matmul(self.ms[t], self.w_hr.T, out=self.h_out[t])  # (N, H) @ (H, P)

    def start_backward(self, dcarried):
        super().start_backward(dcarried)
        self.dhs = np.empty((self.T, self.N, self.out_size), self.dtype)  # dh of every step, for W_hr's gradient
        self._dm = np.empty((self.N, self.H), self.dtype)

    def step_backward(self, t, dh, dgx, dgh):
        self.dhs[t] = dh
        return super().step_backward(t, np.matmul(dh, self.w_hr, out=self._dm), dgx, dgh)  # dm = dh W_hr, (N, H)

    def param_grads(self):
        P, H = self.w_hr.shape
        return {"weight_hr": self.dhs.reshape(-1, P).T @ self.ms.reshape(-1, H)}  # (P, H): all steps in one GEMM


class _GRUKernel(_Kernel):
    """Gates r, z, n: n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h = (1 - z) n + z h_prev."""

    gates = 3
    shared_gate_grads = False  # the n block differs: W_hn sees r * d(n pre-activation)

    def __init__(self, T, N, H, dtype, reverse):
        super().__init__(T, N, H, dtype, reverse)
        self.acts = np.empty((T, N, 3 * H), dtype)  # r, z, n after their nonlinearities
        self.ghn = np.empty((T, N, H), dtype)  # W_hn h_prev + b_hn, inside the reset gate
        self._rz, self._tmp = np.empty((N, 2 * H), dtype), np.empty((N, H), dtype)

    def bias(self, b_ih, b_hh):
        if b_ih is None:
            self.b_hn = None
            return None
        H = self.H
        self.b_hn = b_hh[2 * H:]  # added per step, inside r * (...)
        return b_ih + np.concatenate([b_hh[:2 * H], np.zeros(H, b_hh.dtype)])

    def _gates(self, t):
        H, a = self.H, self.acts[t]
        return a[:, :H], a[:, H:2 * H], a[:, 2 * H:]

    def step(self, t, gx, gh):
        H, ghn = self.H, self.ghn[t]
        _sigmoid(np.add(gx[:, :2 * H], gh[:, :2 * H], out=self._rz), self.acts[t, :, :2 * H])
        if self.b_hn is None:
            ghn[...] = gh[:, 2 * H:]
        else:
            np.add(gh[:, 2 * H:], self.b_hn, out=ghn)
        r, z, n = self._gates(t)
        np.multiply(r, ghn, out=n)
        n += gx[:, 2 * H:]
        np.tanh(n, out=n)
        diff = np.subtract(self.h_prev[t], n, out=self._tmp)
        diff *= z
        np.add(n, diff, out=self.h_out[t])  # n + z (h_prev - n)

    def start_backward(self, dcarried):
        self._deriv, self._direct = np.empty((self.N, 2 * self.H), self.dtype), np.empty((self.N, self.H), self.dtype)

    def step_backward(self, t, dh, dgx, dgh):
        H, tmp = self.H, self._tmp
        r, z, n = self._gates(t)
        dr, dz, dn = dgx[:, :H], dgx[:, H:2 * H], dgx[:, 2 * H:]
        np.multiply(n, n, out=tmp)
        np.subtract(1, tmp, out=tmp)  # tanh'
        np.subtract(dh, np.multiply(dh, z, out=self._direct), out=dn)  # dh (1 - z)
        dn *= tmp  # gradient of n's pre-activation
        np.subtract(self.h_prev[t], n, out=dz)
        dz *= dh  # gradient of z's output
        np.multiply(dn, self.ghn[t], out=dr)  # gradient of r's output
        deriv = np.subtract(1, self.acts[t, :, :2 * H], out=self._deriv)
        deriv *= self.acts[t, :, :2 * H]  # sigmoid'
        dgx[:, :2 * H] *= deriv
        dgh[:, :2 * H] = dgx[:, :2 * H]
        np.multiply(dn, r, out=dgh[:, 2 * H:])  # W_hn h + b_hn sits inside r * (...)
        return self._direct  # dh z


def _forward_direction(kernel, x, state0, w_ih, w_hh, b_ih, b_hh):
    """Run ``kernel`` over x (T, N, I) from state0; its buffers keep what backward needs."""
    T, N, I = x.shape
    if I == 1:  # an outer product: OpenBLAS takes several times longer for a GEMM with K = 1
        gx = x * w_ih[:, 0]  # (T, N, G)
    else:
        gx = (x.reshape(T * N, I) @ w_ih.T).reshape(T, N, w_ih.shape[0])  # (T, N, G): all steps' input projections, one GEMM
    bias = kernel.bias(b_ih, b_hh)
    if bias is not None:
        gx += bias
    kernel.start(state0)
    gh, w_hh_t = np.empty((N, w_hh.shape[0]), x.dtype), w_hh.T
    for t in kernel.order:
        kernel.step(t, gx[t], np.matmul(kernel.h_prev[t], w_hh_t, out=gh))  # one GEMM for all gates
    return kernel


def _backward_direction(kernel, x, dy, dstate, w_ih, w_hh, bias):
    """Backpropagation through time of one direction: dy (T, N, H) (H: the kernel's out_size)
    reaches every h_out[t], dstate = (dh_final, *carried) the final state. Returns dx (T, N, I),
    the gradients of the initial state and the parameter gradients by torch's stem names."""
    T, N, H = kernel.T, kernel.N, kernel.out_size
    kernel.start_backward(dstate[1:])
    dgx = np.empty((T, N, w_hh.shape[0]), x.dtype)  # (T, N, G) per-step gate gradients
    dgh = dgx if kernel.shared_gate_grads else np.empty_like(dgx)
    dh = np.zeros((N, H), x.dtype) if dstate[0] is None else dstate[0].copy()
    dh_t = np.empty((N, H), x.dtype)
    for t in reversed(kernel.order):
        np.add(dh, dy[t], out=dh_t)  # from the output at t and from step t + 1
        direct = kernel.step_backward(t, dh_t, dgx[t], dgh[t])
        np.matmul(dgh[t], w_hh, out=dh)  # (N, G) @ (G, H): now the gradient of h_prev
        if direct is not None:
            dh += direct
    G, I = w_ih.shape
    dgx, dgh = dgx.reshape(T * N, G), dgh.reshape(T * N, G)
    grads = {"weight_ih": dgx.T @ x.reshape(T * N, I),  # (G, I): all steps in one GEMM
             "weight_hh": dgh.T @ kernel.h_prev.reshape(T * N, H)}  # (G, H)
    if bias:
        grads["bias_ih"], grads["bias_hh"] = dgx.sum(axis=0), dgh.sum(axis=0)
    grads.update(kernel.param_grads())
    dx = (dgx @ w_ih).reshape(T, N, I)  # (T, N, I)
    return dx, (dh, *kernel.carried_grads()), grads


def _init_parameters(module, rng):
    """torch's reset_parameters: every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    bound = 1 / math.sqrt(module.hidden_size)
    for param in module.parameters():
        init.uniform_(param, -bound, bound, rng=rng)


class _RNNBase(Module):
    """What RNN, LSTM and GRU share: arguments, parameters l{layer}[_reverse], the layer and direction loops."""

    _kernel = _Kernel
    _states = ("h_0",)  # the names of the initial states in hx

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None, rng=None):
        super().__init__()
        name = type(self).__name__
        dtype = factory_dtype(dtype, device)
        input_size, hidden_size, num_layers = (check_size(value, f"{name}({arg})") for arg, value in
                                               (("input_size", input_size), ("hidden_size", hidden_size),
                                                ("num_layers", num_layers)))
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout: expected a number in [0, 1], got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=3)
        if isinstance(proj_size, bool) or not isinstance(proj_size, numbers.Integral) or not 0 <= proj_size < hidden_size:
            raise ValueError(f"{name}(proj_size): expected an int in [0, hidden_size) = [0, {hidden_size}), got {proj_size!r}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}(proj_size): projections are only supported for LSTM, expected 0, got {proj_size!r}")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"{name}: rng: expected a numpy.random.Generator, got {_describe(rng)}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, int(proj_size)
        self.rng = np.random.default_rng() if rng is None else rng
        directions = 2 if bidirectional else 1
        gate_size = self._kernel.gates * hidden_size
        real_hidden_size = self._output_size()  # what h carries: proj_size when projected
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                setattr(self, f"weight_ih_l{layer}{suffix}", Parameter(np.empty((gate_size, layer_input), dtype)))
                setattr(self, f"weight_hh_l{layer}{suffix}", Parameter(np.empty((gate_size, real_hidden_size), dtype)))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", Parameter(np.empty(gate_size, dtype)))
                    setattr(self, f"bias_hh_l{layer}{suffix}", Parameter(np.empty(gate_size, dtype)))
                if self.proj_size:
                    setattr(self, f"weight_hr_l{layer}{suffix}", Parameter(np.empty((self.proj_size, hidden_size), dtype)))
        _init_parameters(self, self.rng)
        self._cache = self._output = None

    def _output_size(self):
        """The features of h (and of each direction's output): proj_size when projected, else hidden_size."""
        return self.proj_size or self.hidden_size

    def _new_kernel(self, T, N, dtype, layer, direction):
        if not self.proj_size:
            return self._kernel(T, N, self.hidden_size, dtype, reverse=direction == 1)
        w_hr = getattr(self, f"weight_hr_l{layer}" + ("_reverse" if direction else "")).data
        return _LSTMProjectionKernel(T, N, self.hidden_size, dtype, direction == 1, w_hr)

    def _weights(self, layer, direction):
        suffix = "_reverse" if direction else ""
        get = lambda stem: getattr(self, f"{stem}_l{layer}{suffix}", None)
        return [None if p is None else p.data for p in map(get, ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))]

    def _check_input(self, input):
        name = type(self).__name__
        layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
        check_array(input, f"{name} input {layout} or unbatched (L, H_in)", ndim=(2, 3),
                    dtype=self.weight_ih_l0.dtype, last_dim=self.input_size)
        if input.shape[0 if input.ndim == 2 or not self.batch_first else 1] == 0:
            raise ValueError(f"{name} input: expected a sequence length > 0, got shape {input.shape}")
        return input.ndim == 3

    def _to_internal(self, array, batched):  # the caller's layout -> (L, N, features)
        if not batched:
            return array[:, None]
        return np.ascontiguousarray(array.transpose(1, 0, 2)) if self.batch_first else array

    def _to_external(self, array, batched):
        if not batched:
            return array[:, 0]
        return np.ascontiguousarray(array.transpose(1, 0, 2)) if self.batch_first else array

    def _check_hx(self, hx, batch_size, batched):
        """The initial states as a list of (D * num_layers, N, features) arrays (zeros when hx is None):
        h has the output size (proj_size when projected), an LSTM's c hidden_size."""
        name, dtype = type(self).__name__, self.weight_ih_l0.dtype
        layers = self.num_layers * (2 if self.bidirectional else 1)
        sizes = [(self._output_size(), "proj_size" if self.proj_size else "hidden_size"),
                 (self.hidden_size, "hidden_size")][:len(self._states)]
        if hx is None:
            return [np.zeros((layers, batch_size, size), dtype) for size, _ in sizes]
        states = self._unpack_states(hx)
        for state, state_name, (size, size_name) in zip(states, self._states, sizes):
            check_array(state, f"{name} {state_name}", dtype=dtype)
            shape = (layers, batch_size, size) if batched else (layers, size)
            if state.shape != shape:
                raise ValueError(f"{name} {state_name}: expected shape {shape} (num_layers * num_directions, "
                                 f"{'batch, ' if batched else ''}{size_name}) for an input of "
                                 f"{'' if batched else 'un'}batched rank {3 if batched else 2}, got {state.shape}")
        return [state if batched else state[:, None] for state in states]

    def _unpack_states(self, hx):
        return [hx]

    def _pack_states(self, states):
        return states[0]

    def forward(self, input, hx=None, dropout_masks=None):
        """input (L, N, H_in), (N, L, H_in) with batch_first, or (L, H_in); hx as torch's.

        In training with dropout > 0, ``dropout_masks`` (num_layers - 1 scaled keep-masks, each the
        shape of the output) replace the masks drawn from ``rng`` (in eval they are unused, as dropout
        is off); ``self.dropout_masks`` holds the masks used, or None.
        """
        batched = self._check_input(input)
        x = self._to_internal(input, batched)  # (L, N, H_in)
        states0 = self._check_hx(hx, x.shape[1], batched)
        masks = self._dropout_masks(dropout_masks, x.shape, batched)
        layers, finals = [], [[] for _ in self._states]
        with np.errstate(over="ignore"):
            for layer in range(self.num_layers):
                kernels = []
                for direction in range(2 if self.bidirectional else 1):
                    index = layer * (2 if self.bidirectional else 1) + direction
                    kernel = self._new_kernel(*x.shape[:2], x.dtype, layer, direction)
                    state0 = [s[index] for s in states0]
                    kernels.append(_forward_direction(kernel, x, state0, *self._weights(layer, direction)))
                    for final, state in zip(finals, kernel.final()):
                        final.append(state)
                layers.append((x, kernels))
                x = kernels[0].h_out if len(kernels) == 1 else np.concatenate([k.h_out for k in kernels], axis=2)
                if layer < len(masks):
                    x = x * masks[layer]  # (L, N, D * H_out)
        self.dropout_masks = [self._to_external(mask, batched) for mask in masks] or None
        self._output = self._to_external(x, batched)
        finals = [np.stack(final) if batched else np.stack(final)[:, 0] for final in finals]  # (D * layers, [N,] H_out or H)
        self._finals = finals
        self._cache = (layers, masks, batched, hx is not None)
        return self._output, self._pack_states(finals)

    def _dropout_masks(self, given, shape, batched):
        if not self.training or self.dropout == 0 or self.num_layers == 1:
            return []
        L, N = shape[:2]
        width = self._output_size() * (2 if self.bidirectional else 1)
        if given is None:
            return [F.dropout_mask((L, N, width), self.dropout, self.rng, np.dtype(self.weight_ih_l0.dtype))
                    for _ in range(self.num_layers - 1)]
        expected = self._to_external(np.empty((L, N, width)), batched).shape
        if len(given) != self.num_layers - 1 or any(not isinstance(m, np.ndarray) or m.shape != expected
                                                    or m.dtype != self.weight_ih_l0.dtype for m in given):
            raise ValueError(f"{type(self).__name__} dropout_masks: expected {self.num_layers - 1} arrays of shape "
                             f"{expected} and dtype {self.weight_ih_l0.dtype}, got "
                             f"{[_describe(m) for m in given]}")
        return [self._to_internal(m, batched) for m in given]

    def backward(self, doutput, dstate=None):
        """doutput: gradient of output (or None); dstate: of h_n (LSTM: (h_n, c_n)), None allowed.

        Returns dx, or (dx, dh_0) / (dx, (dh_0, dc_0)) when forward was given hx."""
        layers, masks, batched, hx_given = require_forward(self, self._cache)
        dfinals = self._unpack_states(dstate) if dstate is not None else [None] * len(self._states)
        for grad, final, state_name in zip(dfinals, self._finals, self._states):
            if grad is not None:
                check_grad(grad, final, f"gradient of {state_name[0]}_n")
        dfinals = [None if g is None else g if batched else g[:, None] for g in dfinals]  # (D * layers, N, H_out or H)
        if doutput is None:
            dx = np.zeros_like(self._output)
        else:
            dx = check_grad(doutput, self._output, "gradient of output")
        dx = self._to_internal(dx, batched)  # (L, N, D * H_out)
        H, D = self._output_size(), 2 if self.bidirectional else 1
        dstates0 = [np.empty_like(g) for g in self._to_internal_states(batched)]
        for layer in reversed(range(self.num_layers)):
            x, kernels = layers[layer]
            if layer < len(masks):
                dx = dx * masks[layer]
            dinput = None
            for direction, kernel in enumerate(kernels):
                index = layer * D + direction
                w_ih, w_hh, _, _ = self._weights(layer, direction)
                dstate_n = [None if g is None else g[index] for g in dfinals]
                dlayer, dstate0, grads = _backward_direction(kernel, x, dx[:, :, direction * H:(direction + 1) * H],
                                                             dstate_n, w_ih, w_hh, self.bias)
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                for stem, grad in grads.items():
                    getattr(self, stem + suffix).accumulate_grad(grad, owned=True)
                for store, grad in zip(dstates0, dstate0):
                    store[index] = grad
                dinput = dlayer if dinput is None else dinput + dlayer
            dx = dinput  # (L, N, H_in of this layer)
        dx = self._to_external(dx, batched)
        if not hx_given:
            return dx
        return dx, self._pack_states([g if batched else g[:, 0] for g in dstates0])

    def _to_internal_states(self, batched):
        return [f if batched else f[:, None] for f in self._finals]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(_RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, rng=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype, rng)
        self.nonlinearity = nonlinearity
        self._kernel = _Kernel if nonlinearity == "tanh" else _ReLUKernel


class GRU(_RNNBase):
    """Gates r, z, n (weight_ih (3H, H_in)); b_hn inside the reset gate, as torch."""

    _kernel = _GRUKernel

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None, rng=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype, rng)


class LSTM(_RNNBase):
    """Gates i, f, g, o (weight_ih (4H, H_in)); forward returns (output, (h_n, c_n)).

    With ``proj_size`` P (0 < P < hidden_size) each layer and direction has weight_hr_l{k} (P, H)
    projecting h: output (L, N, D * P), h_n (D * num_layers, N, P), c_n (..., H); weight_hh is
    (4H, P) and a deeper layer's weight_ih (4H, D * P)."""

    _kernel = _LSTMKernel
    _states = ("h_0", "c_0")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None, rng=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype, rng)

    def _unpack_states(self, hx):
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTM hx: expected a tuple (h_0, c_0), got {_describe(hx)}")
        return list(hx)

    def _pack_states(self, states):
        return tuple(states)


class _RNNCellBase(Module):
    """One time step: the recurrent layer's machinery on a sequence of length 1."""

    _kernel = _Kernel
    _states = ("hx",)

    def __init__(self, input_size, hidden_size, bias, device, dtype, rng):
        super().__init__()
        name = type(self).__name__
        dtype = factory_dtype(dtype, device)
        input_size, hidden_size = check_size(input_size, f"{name}(input_size)"), check_size(hidden_size, f"{name}(hidden_size)")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise TypeError(f"{name}: rng: expected a numpy.random.Generator, got {_describe(rng)}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gate_size = self._kernel.gates * hidden_size
        self.weight_ih = Parameter(np.empty((gate_size, input_size), dtype))
        self.weight_hh = Parameter(np.empty((gate_size, hidden_size), dtype))
        self.bias_ih = Parameter(np.empty(gate_size, dtype)) if bias else None
        self.bias_hh = Parameter(np.empty(gate_size, dtype)) if bias else None
        _init_parameters(self, np.random.default_rng() if rng is None else rng)
        self._cache = None

    def _unpack_states(self, hx):
        return [hx]

    def _pack_states(self, states):
        return states[0]

    def forward(self, input, hx=None):
        """input (N, H_in) or (H_in,); hx (N, H) or (H,) (LSTMCell: a tuple (h, c)); zeros when None."""
        name, dtype = type(self).__name__, self.weight_ih.dtype
        check_array(input, f"{name} input (N, input_size) or (input_size,)", ndim=(1, 2), dtype=dtype,
                    last_dim=self.input_size)
        batched = input.ndim == 2
        x = input[None] if batched else input[None, None]  # (1, N, H_in): a sequence of one step
        shape = (input.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        if hx is None:
            states0 = [np.zeros(shape, dtype) for _ in self._states]
        else:
            states0 = self._unpack_states(hx)
            for state, state_name in zip(states0, self._states):
                check_array(state, f"{name} {state_name}", dtype=dtype)
                if state.shape != shape:
                    raise ValueError(f"{name} {state_name}: expected shape {shape} for input of shape "
                                     f"{input.shape}, got {state.shape}")
        states0 = [s if batched else s[None] for s in states0]  # (N, H)
        w = [None if p is None else p.data for p in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)]
        with np.errstate(over="ignore"):
            kernel = _forward_direction(self._kernel(1, x.shape[1], self.hidden_size, dtype, False), x, states0, *w)
        outputs = [s if batched else s[0] for s in kernel.final()]
        self._outputs = outputs
        self._cache = (kernel, x, batched, hx is not None)
        return self._pack_states(outputs)

    def backward(self, dh, *dcarried):
        """One gradient per output (LSTMCell: dh, dc, or the tuple (dh, dc)); returns dx, or (dx, dhx)
        when forward was given hx."""
        kernel, x, batched, hx_given = require_forward(self, self._cache)
        grads = list(dh) if isinstance(dh, tuple) and not dcarried else [dh, *dcarried]
        if len(grads) != len(self._states):
            raise TypeError(f"{type(self).__name__}.backward: expected {len(self._states)} gradient(s), got {len(grads)}")
        for grad, out, state_name in zip(grads, self._outputs, ("h'", "c'")):
            if grad is not None:
                check_grad(grad, out, f"gradient of {state_name}")
        grads = [None if g is None else g if batched else g[None] for g in grads]  # (N, H)
        dy = np.zeros_like(kernel.h_out) if grads[0] is None else grads[0][None]  # (1, N, H)
        dx, dstate0, param_grads = _backward_direction(kernel, x, dy, [None, *grads[1:]], self.weight_ih.data,
                                                       self.weight_hh.data, self.bias)
        for stem, grad in param_grads.items():
            getattr(self, stem).accumulate_grad(grad, owned=True)
        dx = dx[0] if batched else dx[0, 0]
        if not hx_given:
            return dx
        return dx, self._pack_states([g if batched else g[0] for g in dstate0])

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(_RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None, rng=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, bias, device, dtype, rng)
        self.nonlinearity = nonlinearity
        self._kernel = _Kernel if nonlinearity == "tanh" else _ReLUKernel


class GRUCell(_RNNCellBase):
    _kernel = _GRUKernel

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, rng=None):
        super().__init__(input_size, hidden_size, bias, device, dtype, rng)


class LSTMCell(_RNNCellBase):
    """forward(input, (h, c)) -> (h', c'); backward(dh', dc')."""

    _kernel = _LSTMKernel
    _states = ("h", "c")

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, rng=None):
        super().__init__(input_size, hidden_size, bias, device, dtype, rng)

    def _unpack_states(self, hx):
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"LSTMCell hx: expected a tuple (h, c), got {_describe(hx)}")
        return list(hx)

    def _pack_states(self, states):
        return tuple(states)
