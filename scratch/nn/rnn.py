"""RNN, LSTM, GRU and their cells with torch's signatures, layouts and init; backpropagation
through time by hand.

One machinery runs every recurrent layer. ``_forward_direction`` loops over time with one GEMM
per step for all gates at once: W [h_prev; x_t; 1] when the input is narrow (the forecaster's one
feature), else W_hh h_prev, the inputs of all steps projected beforehand in one GEMM.
``_backward_direction`` loops back and, after the loop, gets each weight gradient in one GEMM
from the gate gradients of all steps. What differs between RNN, LSTM and GRU is the gate math of
one step, which a kernel class supplies (``step`` forward, ``step_backward`` back;
``start_backward`` first computes, for all steps at once, the factors that do not depend on the
incoming gradient, so that a step back is a few products).
An LSTM with ``proj_size`` P (Sak et al., 2014) projects each hidden state, h = W_hr (o tanh(c)):
h, the output and the next step's recurrent input have P features, c keeps hidden_size.

The kernels are written for speed; ``_naive_direction``, after them, is the same math as plain
per-step formulas in torch's layout and gate order, and the tests hold the two equal. What the
speed costs the reader: inside the loops every array is feature-major, (features, N) per step, so
that each gate is one contiguous block (NumPy's per-call cost, not arithmetic, bounds a step at
small sizes, and a gate that is a column slice of (N, 4H) costs twice as much per call); kernels
keep their gates in an order of their own (the LSTM's o, i, f, g: the sigmoid gates first, in one
block) and compute sigmoid(a) = 0.5 tanh(a / 2) + 0.5 on weight rows halved in advance (exact in
binary floating point), so that one tanh call covers every gate; and the working arrays, with the
views of them that each step uses, are kept from call to call (see ``_Kernel``).
Twin of torch.nn.RNN/LSTM/GRU and RNNCell/LSTMCell/GRUCell.
"""
import math
import numbers
import warnings

import numpy as np

from . import functional as F
from . import init
from .module import Module, Parameter, _describe, check_array, check_grad, check_size, factory_dtype, require_forward

_FUSED_INPUT_MAX = 8  # inputs this narrow join h in the recurrent product (measured: it pays up to 16 at H = 32 and 128)


class _Kernel:
    """Buffers and gate math of one direction of one layer over one sequence of T steps, batch N.

    ``hs`` holds T + 1 hidden states (out_size, N) (out_size: H, or P with a projection);
    ``h_prev[t]`` and ``h_out[t]`` are the state before and after step t, views that swap ends for
    a reverse direction. ``inputs[t]`` is what the recurrent weights multiply at step t: h_prev[t]
    itself, or, for a narrow input (I <= _FUSED_INPUT_MAX) where the gate math allows, [h_prev; x_t; 1]
    with [W_hh | W_ih | b] (x_t and 1 are rows of hs below h), which saves an add per step and the
    input projection of all steps. After the loop ``finish`` lays the hidden states out batch-major
    for the caller (``output`` (T, N, out_size)).

    Working arrays come from ``workspace``, a dict the module keeps from call to call for one
    (T, N, dtype): a fresh array of a few hundred kB costs a page fault per 4 kB on every call (the
    allocator hands such blocks back to the system when they are freed), more than the arithmetic
    done in it. Only what the caller keeps (outputs, gradients) is allocated anew. The Elman RNN
    (tanh) is the base.
    """

    gates = 1  # gate blocks in W_ih / W_hh: weight_ih is (gates * H, input)
    blocks = None  # the kernel's order of torch's gate blocks; None: torch's order
    sigmoid_gates = 0  # the first sigmoid_gates blocks (in the kernel's order) are sigmoids
    shared_gate_grads = True  # d(pre-activation) is the same for the W_ih and the W_hh side
    fuses_input = True  # the pre-activation is W_ih x + W_hh h + b: x_t can join h in one product

    def __init__(self, T, N, H, dtype, reverse, input_size, out_size=None, workspace=None):
        self.T, self.N, self.H, self.dtype = T, N, H, dtype
        self.out_size = H if out_size is None else out_size
        self.workspace = {} if workspace is None else workspace
        self.steps = range(T - 1, -1, -1) if reverse else range(T)
        self.reverse = reverse
        self.input_rows = input_size + 1 if self.fuses_input and input_size <= _FUSED_INPUT_MAX else 0
        self.hs = self.buffer("hs", (T + 1, self.out_size + self.input_rows, N))
        before, after = (self.hs[1:], self.hs[:-1]) if reverse else (self.hs[:-1], self.hs[1:])
        self.inputs, self.h_prev, self.h_out = before, before[:, :self.out_size], after[:, :self.out_size]

    def buffer(self, name, shape):
        """An uninitialised working array, the same one as in the previous call with this shape."""
        array = self.workspace.get(name)
        if array is None or array.shape != shape or array.dtype != self.dtype:
            array = self.workspace[name] = np.empty(shape, self.dtype)
        return array

    def per_step(self, name, view):
        """[view(t) for every step], made once per workspace (a workspace serves one shape, so its
        buffers stay put): the ~10 views a step needs cost as much as one of its products."""
        views = self.workspace.get(name)
        if views is None:
            views = self.workspace[name] = [view(t) for t in range(self.T)]
        return views

    def prepare(self, w_ih, w_hh, b_ih, b_hh):
        """The forward's (W_ih, W_hh, bias) in the kernel's gate order, sigmoid rows halved; keeps the
        unhalved W_ih and W_hh (in that order) for backward."""
        bias = self.bias(b_ih, b_hh)
        if self.blocks is not None:
            rows = self._rows()
            w_ih, w_hh, bias = w_ih[rows], w_hh[rows], None if bias is None else bias[rows]
        self.w_ih, self.w_hh = w_ih, w_hh
        if self.sigmoid_gates:
            half = np.ones((w_hh.shape[0], 1), w_hh.dtype)
            half[:self.sigmoid_gates * self.H] = 0.5
            w_ih, w_hh, bias = w_ih * half, w_hh * half, None if bias is None else bias * half[:, 0]
        return w_ih, w_hh, bias

    def _rows(self):
        """Row indices that put torch's gate blocks in the kernel's order."""
        H = self.H
        return np.concatenate([np.arange(block * H, (block + 1) * H) for block in self.blocks])

    def to_torch_order(self, grad):
        """A gradient with gate rows in the kernel's order, rearranged to torch's."""
        return grad if self.blocks is None else grad[np.argsort(self._rows())]

    def bias(self, b_ih, b_hh):
        """The bias added to every step's input projection: b_ih + b_hh, where the gate math allows."""
        return b_ih + b_hh if b_ih is not None else None

    def start(self, state0):
        self.h_prev[self.steps[0]] = state0[0].T

    def finish(self):
        """The hidden states batch-major, (T + 1, N, out_size), a new array: the output and, for W_hh's
        gradient, the recurrent inputs, as (T, N, out_size) views."""
        self.hs_batch = np.ascontiguousarray(self.hs[:, :self.out_size].transpose(0, 2, 1))
        ends = (self.hs_batch[1:], self.hs_batch[:-1])
        self.output, self.h_prev_batch = ends[::-1] if self.reverse else ends

    def final(self):
        return (self.output[self.steps[-1]],)

    def pre(self, t):
        """Where step t's recurrent product goes: the buffer its gate math starts from."""
        return self.h_out[t]

    def step(self, t, gx, pre):  # pre (G, N): W inputs[t]; gx (G, N): W_ih x_t + b, or None when fused
        if gx is not None:
            pre += gx
        np.tanh(pre, out=pre)

    def start_backward(self, dcarried):
        deriv = self._deriv = np.square(self.h_out, out=self.buffer("deriv", self.h_out.shape))
        np.subtract(1, deriv, out=deriv)  # tanh' = 1 - h^2, (T, H, N)

    def step_backward(self, t, dh, dgx, dgh):
        """Write d(pre-activation) of step t into dgx (and dgh); return dh_prev's direct term (or None)."""
        np.multiply(dh, self._deriv[t], out=dgx)

    def carried_grads(self):
        return ()

    def param_grads(self):
        """Gradients of parameters the kernel owns beyond W_ih, W_hh and the biases, by stem name."""
        return {}


class _ReLUKernel(_Kernel):
    def step(self, t, gx, pre):
        if gx is not None:
            pre += gx
        np.maximum(pre, 0, out=pre)

    def start_backward(self, dcarried):
        deriv = self._deriv = self.buffer("deriv", self.h_out.shape)
        np.copyto(deriv, self.h_out > 0)  # torch's relu' is 0 at 0


class _LSTMKernel(_Kernel):
    """Gates i, f, g, o: c = f c_prev + i g, h = o tanh(c). Kept in the order o, i, f, g."""

    gates, blocks, sigmoid_gates = 4, (3, 0, 1, 2), 3

    def __init__(self, T, N, H, dtype, reverse, input_size, out_size=None, workspace=None):
        super().__init__(T, N, H, dtype, reverse, input_size, out_size, workspace)
        self.cs = self.buffer("cs", (T + 1, H, N))
        self.c_prev, self.c_out = (self.cs[1:], self.cs[:-1]) if reverse else (self.cs[:-1], self.cs[1:])
        self.acts = self.buffer("acts", (T, 4 * H, N))  # o, i, f, g after their nonlinearities
        self.tanh_c = self.buffer("tanh_c", (T, H, N))
        self.ms = self.h_out  # o tanh(c): the hidden state itself, unless a subclass projects it
        self._tmp = self.buffer("tmp", (H, N))

    def start(self, state0):
        super().start(state0)
        self.c_prev[self.steps[0]] = state0[1].T
        H = self.H
        self._step_views = self.per_step("step", lambda t: (
            self.acts[t], self.acts[t, :3 * H], *np.split(self.acts[t], 4), self.c_prev[t], self.c_out[t], self.tanh_c[t], self.ms[t]))

    def final(self):
        return self.output[self.steps[-1]], self.c_out[self.steps[-1]].T.copy()

    def pre(self, t):
        return self.acts[t]

    def step(self, t, gx, pre):
        a, sigmoids, o, i, f, g, c_prev, c, tanh_c, m = self._step_views[t]  # a is pre
        if gx is not None:
            a += gx
        np.tanh(a, out=a)  # tanh(a / 2) for the sigmoid rows (halved), tanh(a) for g
        sigmoids *= 0.5
        sigmoids += 0.5  # o, i, f = 0.5 tanh(a / 2) + 0.5 = sigmoid(a)
        np.multiply(f, c_prev, out=c)
        c += np.multiply(i, g, out=self._tmp)
        np.multiply(o, np.tanh(c, out=tanh_c), out=m)

    def start_backward(self, dcarried):
        """For every step: what dh (for o) or dc (for i, f, g) is multiplied by to give the gate's
        pre-activation gradient, and dc's share of dh, o tanh'(c)."""
        H, a = self.H, self.acts
        o, i, g = a[:, :H], a[:, H:2 * H], a[:, 3 * H:]  # (T, H, N)
        k = self._k = np.subtract(1, a, out=self.buffer("k", a.shape))
        k[:, :3 * H] *= a[:, :3 * H]  # sigmoid' = s (1 - s)
        k[:, :H] *= self.tanh_c  # do = dh tanh(c) o'
        k[:, H:2 * H] *= g  # di = dc g i'
        k[:, 2 * H:3 * H] *= self.c_prev  # df = dc c_prev f'
        np.multiply(g, g, out=k[:, 3 * H:])
        np.subtract(1, k[:, 3 * H:], out=k[:, 3 * H:])
        k[:, 3 * H:] *= i  # dg = dc i tanh'(g), tanh' = 1 - g^2
        k_c = np.square(self.tanh_c, out=self.buffer("k_c", self.tanh_c.shape))
        np.subtract(1, k_c, out=k_c)
        k_c *= o  # dc = dh o tanh'(c) + the dc carried back
        self.dc = np.zeros((H, self.N), self.dtype) if dcarried[0] is None else dcarried[0].T.copy()
        N, dgx = self.N, self.buffer("dgx", (4 * H, self.T, self.N))  # _backward_direction's
        self._back_views = self.per_step("step_backward", lambda t: (
            k[t, :H], k[t, H:].reshape(3, H, N), k_c[t], a[t, 2 * H:3 * H], dgx[:H, t], dgx[H:, t].reshape(3, H, N)))

    def step_backward(self, t, dh, dgx, dgh):  # dh: the gradient of o tanh(c), (H, N); dgx: (4H, N)
        k_o, k_ifg, k_c, f, do, difg = self._back_views[t]  # difg: dgx's i, f, g blocks as (3, H, N)
        dc = self.dc
        dc += np.multiply(dh, k_c, out=self._tmp)
        np.multiply(k_o, dh, out=do)
        np.multiply(k_ifg, dc, out=difg)  # di, df, dg
        dc *= f  # now dc_prev = dc f, carried to the step before

    def carried_grads(self):
        return (self.dc.T.copy(),)


class _LSTMProjectionKernel(_LSTMKernel):
    """LSTM with projections: m = o tanh(c) (H, N), then h = W_hr m (P, N)."""

    def __init__(self, T, N, H, dtype, reverse, input_size, w_hr, workspace=None):
        super().__init__(T, N, H, dtype, reverse, input_size, w_hr.shape[0], workspace)
        self.w_hr = w_hr  # (P, H)
        self._ms = self.buffer("ms", (H, T, N))  # every step's m, one (H, T * N) matrix for W_hr's gradient
        self.ms = self._ms.transpose(1, 0, 2)  # (T, H, N) views

    def step(self, t, gx, pre):
        super().step(t, gx, pre)  # writes m into ms[t]
        np.matmul(self.w_hr, self.ms[t], out=self.h_out[t])  # (P, H) @ (H, N)

    def start_backward(self, dcarried):
        super().start_backward(dcarried)
        self._dhs = self.buffer("dhs", (self.out_size, self.T, self.N))  # dh of every step, for W_hr's gradient
        self._dm = self.buffer("dm", (self.H, self.N))

    def step_backward(self, t, dh, dgx, dgh):
        self._dhs[:, t] = dh
        return super().step_backward(t, np.matmul(self.w_hr.T, dh, out=self._dm), dgx, dgh)  # dm = W_hr^T dh, (H, N)

    def param_grads(self):
        P, H = self.w_hr.shape
        TN = self.T * self.N
        return {"weight_hr": self._dhs.reshape(P, TN) @ self._ms.reshape(H, TN).T}  # (P, H): all steps in one GEMM


class _GRUKernel(_Kernel):
    """Gates r, z, n: n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h = (1 - z) n + z h_prev."""

    gates, sigmoid_gates = 3, 2
    shared_gate_grads = False  # the n block differs: W_hn sees r * d(n pre-activation)
    fuses_input = False  # W_in x + b_in and W_hn h + b_hn enter n apart

    def __init__(self, T, N, H, dtype, reverse, input_size, workspace=None):
        super().__init__(T, N, H, dtype, reverse, input_size, workspace=workspace)
        self.acts = self.buffer("acts", (T, 3 * H, N))  # r, z, n after their nonlinearities
        self.ghn = self.buffer("ghn", (T, H, N))  # W_hn h_prev + b_hn, inside the reset gate
        self._gh = self.buffer("gh", (3 * H, N))
        self._tmp = self.buffer("tmp", (H, N))

    def bias(self, b_ih, b_hh):
        if b_ih is None:
            self.b_hn = None
            return None
        H = self.H
        self.b_hn = b_hh[2 * H:, None]  # added per step, inside r * (...)
        return b_ih + np.concatenate([b_hh[:2 * H], np.zeros(H, b_hh.dtype)])

    def pre(self, t):
        return self._gh

    def step(self, t, gx, gh):  # gh: W_hh h_prev
        H, a, ghn = self.H, self.acts[t], self.ghn[t]
        rz = np.add(gx[:2 * H], gh[:2 * H], out=a[:2 * H])
        np.tanh(rz, out=rz)  # the r and z rows were halved: tanh(a / 2) ...
        rz *= 0.5
        rz += 0.5  # ... and 0.5 tanh(a / 2) + 0.5 = sigmoid(a)
        if self.b_hn is None:
            ghn[...] = gh[2 * H:]
        else:
            np.add(gh[2 * H:], self.b_hn, out=ghn)
        r, z, n = a[:H], a[H:2 * H], a[2 * H:]
        np.multiply(r, ghn, out=n)
        n += gx[2 * H:]
        np.tanh(n, out=n)
        diff = np.subtract(self.h_prev[t], n, out=self._tmp)
        diff *= z
        np.add(n, diff, out=self.h_out[t])  # n + z (h_prev - n)

    def start_backward(self, dcarried):
        """For every step: what dh is multiplied by for the n and z pre-activations, and dn by for r's."""
        H, a = self.H, self.acts
        z, n = a[:, H:2 * H], a[:, 2 * H:]  # (T, H, N)
        k = self._k = np.subtract(1, a, out=self.buffer("k", a.shape))
        k[:, :2 * H] *= a[:, :2 * H]  # sigmoid' = s (1 - s)
        k[:, :H] *= self.ghn  # dr = dn (W_hn h + b_hn) r'
        tmp = np.subtract(self.h_prev, n, out=self.buffer("k_tmp", n.shape))
        k[:, H:2 * H] *= tmp  # dz = dh (h_prev - n) z'
        np.subtract(1, z, out=k[:, 2 * H:])
        np.square(n, out=tmp)
        np.subtract(1, tmp, out=tmp)
        k[:, 2 * H:] *= tmp  # dn = dh (1 - z) tanh'(n)

    def step_backward(self, t, dh, dgx, dgh):
        H, k = self.H, self._k[t]
        r, z = self.acts[t, :H], self.acts[t, H:2 * H]
        dr, dz, dn = dgx[:H], dgx[H:2 * H], dgx[2 * H:]
        np.multiply(dh, k[2 * H:], out=dn)
        np.multiply(dh, k[H:2 * H], out=dz)
        np.multiply(dn, k[:H], out=dr)
        dgh[:2 * H] = dgx[:2 * H]
        np.multiply(dn, r, out=dgh[2 * H:])  # W_hn h + b_hn sits inside r * (...)
        return np.multiply(dh, z, out=self._tmp)  # dh_prev's direct term, dh z


def _forward_direction(kernel, x, state0, w_ih, w_hh, b_ih, b_hh):
    """Run ``kernel`` over x (T, N, I) from state0 ((N, features) each); its buffers keep what backward needs."""
    T, N, I = x.shape
    w_ih, w_hh, bias = kernel.prepare(w_ih, w_hh, b_ih, b_hh)  # (G, I), (G, out_size), (G,)
    G = w_hh.shape[0]
    if kernel.input_rows:  # [W_hh | W_ih | b] [h_prev; x_t; 1]: the input projection inside the recurrent product
        w_hh = np.concatenate([w_hh, w_ih, (np.zeros(G, x.dtype) if bias is None else bias)[:, None]], axis=1)
        kernel.inputs[:, -I - 1:-1] = x.transpose(0, 2, 1)
        kernel.inputs[:, -1] = 1
        gx = None
    else:
        gx = kernel.buffer("gx", (G, T, N))
        if I == 1:  # an outer product: OpenBLAS takes several times longer for a GEMM with K = 1
            np.multiply(w_ih[:, :, None], x[None, :, :, 0], out=gx)  # (G, T, N)
        else:
            np.matmul(w_ih, x.reshape(T * N, I).T, out=gx.reshape(G, T * N))  # (G, T, N): all steps' input projections, one GEMM
        if bias is not None:
            gx += bias[:, None, None]
    kernel.start(state0)
    inputs, pres = kernel.per_step("inputs", kernel.inputs.__getitem__), kernel.per_step("pre", kernel.pre)
    for t in kernel.steps:
        pre = np.matmul(w_hh, inputs[t], out=pres[t])  # (G, rows) @ (rows, N): one GEMM for all gates
        kernel.step(t, None if gx is None else gx[:, t], pre)
    kernel.finish()
    return kernel


def _backward_direction(kernel, x, dy, dstate, bias, input_grad=True):
    """Backpropagation through time of one direction: dy (T, N, out_size) reaches every h_out[t],
    dstate = (dh_final, *carried) the final state ((N, features) each, or None). Returns dx (T, N, I)
    (None without input_grad), the gradients of the initial state and the parameter gradients by
    torch's stem names."""
    T, N, I = x.shape
    w_ih, w_hh = kernel.w_ih, kernel.w_hh  # the forward's, in the kernel's gate order
    G = w_hh.shape[0]
    dgx = kernel.buffer("dgx", (G, T, N))  # per-step gate gradients: all steps form one (G, T * N) matrix
    dgh = dgx if kernel.shared_gate_grads else kernel.buffer("dgh", (G, T, N))
    dy_t = kernel.buffer("dy", (T, kernel.out_size, N))
    dy_t[...] = dy.transpose(0, 2, 1)
    kernel.start_backward(dstate[1:])
    dh = np.zeros((kernel.out_size, N), x.dtype) if dstate[0] is None else dstate[0].T.copy()
    w_hh_t = w_hh.T
    dys, dgxs = kernel.per_step("dy_t", dy_t.__getitem__), kernel.per_step("dgx_t", lambda t: dgx[:, t])
    dghs = dgxs if dgh is dgx else kernel.per_step("dgh_t", lambda t: dgh[:, t])
    for t in reversed(kernel.steps):
        dh += dys[t]  # from the output at t and from step t + 1
        direct = kernel.step_backward(t, dh, dgxs[t], dghs[t])
        np.matmul(w_hh_t, dghs[t], out=dh)  # (out, G) @ (G, N): now the gradient of h_prev
        if direct is not None:
            dh += direct
    dgx2, dgh2 = dgx.reshape(G, T * N), dgh.reshape(G, T * N)
    grads = {"weight_ih": dgx2 @ x.reshape(T * N, I),  # (G, I): all steps in one GEMM
             "weight_hh": dgh2 @ kernel.h_prev_batch.reshape(T * N, kernel.out_size)}  # (G, out_size)
    if bias:
        ones = np.ones(T * N, x.dtype)  # the sums over all steps and samples, as GEMVs: faster than .sum(axis=1)
        grads["bias_ih"] = dgx2 @ ones
        grads["bias_hh"] = grads["bias_ih"].copy() if dgh is dgx else dgh2 @ ones
    grads = {stem: kernel.to_torch_order(grad) for stem, grad in grads.items()}
    grads.update(kernel.param_grads())
    dx = (dgx2.T @ w_ih).reshape(T, N, I) if input_grad else None  # (T * N, G) @ (G, I)
    return dx, (dh.T.copy(), *kernel.carried_grads()), grads


def _naive_direction(mode, x, state0, weights, dy, dstate):
    """The plain per-step formulas of one direction, forward then backward through time, in torch's
    layout ((N, features) per step) and gate order: what the kernels above compute with fused
    gates, halved sigmoid rows, precomputed factors and ``out=`` buffers. The tests hold the two equal.

    mode: 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'; x (T, N, I); state0: [h0] or [h0, c0];
    weights: weight_ih, weight_hh, bias_ih, bias_hh (None without bias) and weight_hr (None
    without projection) by stem; dy (T, N, out_size); dstate: like state0, None for no gradient.
    Returns outputs (T, N, out_size), final states, dx, the initial states' gradients, grads by stem.
    """
    w_ih, w_hh, b_ih, b_hh, w_hr = (weights.get(stem) for stem in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))
    b_ih = 0 if b_ih is None else b_ih
    b_hh = 0 if b_hh is None else b_hh
    sigmoid = lambda a: 1 / (1 + np.exp(-a))
    h, c = state0[0], state0[1] if mode == "LSTM" else None
    H = w_hh.shape[0] // {"LSTM": 4, "GRU": 3}.get(mode, 1)
    hs, steps = [], []
    for x_t in x:  # forward
        if mode == "LSTM":
            gates = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
            i, f, g, o = sigmoid(gates[:, :H]), sigmoid(gates[:, H:2 * H]), np.tanh(gates[:, 2 * H:3 * H]), sigmoid(gates[:, 3 * H:])
            steps.append((h, c, i, f, g, o))
            c = f * c + i * g
            h = o * np.tanh(c) if w_hr is None else (o * np.tanh(c)) @ w_hr.T
        elif mode == "GRU":
            gx, gh = x_t @ w_ih.T + b_ih, h @ w_hh.T + b_hh
            r, z = sigmoid(gx[:, :H] + gh[:, :H]), sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
            n = np.tanh(gx[:, 2 * H:] + r * gh[:, 2 * H:])
            steps.append((h, r, z, n, gh[:, 2 * H:]))
            h = (1 - z) * n + z * h
        else:
            steps.append(h)
            a = x_t @ w_ih.T + b_ih + h @ w_hh.T + b_hh
            h = np.tanh(a) if mode == "RNN_TANH" else np.maximum(a, 0)
        hs.append(h)
    finals = [h, c] if mode == "LSTM" else [h]
    grads = {"weight_ih": np.zeros_like(w_ih), "weight_hh": np.zeros_like(w_hh), "bias_ih": 0, "bias_hh": 0,
             "weight_hr": None if w_hr is None else np.zeros_like(w_hr)}
    dh = np.zeros_like(h) if dstate[0] is None else dstate[0]
    dc = (np.zeros_like(c) if dstate[1] is None else dstate[1]) if mode == "LSTM" else None
    dx = np.zeros_like(x)
    for t in reversed(range(len(x))):  # backward through time
        dh = dh + dy[t]
        if mode == "LSTM":
            h_prev, c_prev, i, f, g, o = steps[t]
            c_t = f * c_prev + i * g
            if w_hr is not None:
                grads["weight_hr"] += dh.T @ (o * np.tanh(c_t))
                dh = dh @ w_hr
            dc = dc + dh * o * (1 - np.tanh(c_t) ** 2)
            dgates = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g ** 2),
                                     dh * np.tanh(c_t) * o * (1 - o)], axis=1)
            dgx = dgh = dgates
            dc = dc * f
            dh_direct = 0
        elif mode == "GRU":
            h_prev, r, z, n, ghn = steps[t]
            dn = dh * (1 - z) * (1 - n ** 2)
            dr = dn * ghn * r * (1 - r)
            dz = dh * (h_prev - n) * z * (1 - z)
            dgx = np.concatenate([dr, dz, dn], axis=1)
            dgh = np.concatenate([dr, dz, dn * r], axis=1)
            dh_direct = dh * z
        else:
            h_prev = steps[t]
            dgx = dgh = dh * ((1 - hs[t] ** 2) if mode == "RNN_TANH" else (hs[t] > 0))
            dh_direct = 0
        grads["weight_ih"] += dgx.T @ x[t]
        grads["weight_hh"] += dgh.T @ h_prev
        grads["bias_ih"] = grads["bias_ih"] + dgx.sum(axis=0)
        grads["bias_hh"] = grads["bias_hh"] + dgh.sum(axis=0)
        dx[t] = dgx @ w_ih
        dh = dgh @ w_hh + dh_direct
    dstate0 = [dh, dc] if mode == "LSTM" else [dh]
    return np.stack(hs), finals, dx, dstate0, grads


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
        self._workspaces = {}  # (T, N, dtype) -> (layer, direction) -> a kernel's working arrays, reused between calls

    def __getstate__(self):
        """Copies and pickles leave the working arrays behind: the per-step views cached with them
        would become arrays of their own in a copy instead of views of its buffers."""
        return {**self.__dict__, "_workspaces": {}}

    def _output_size(self):
        """The features of h (and of each direction's output): proj_size when projected, else hidden_size."""
        return self.proj_size or self.hidden_size

    def _new_kernel(self, T, N, dtype, layer, direction):
        shape = (T, N, np.dtype(dtype).str)
        if shape not in self._workspaces and len(self._workspaces) >= 2:  # e.g. the training and the eval batch
            del self._workspaces[next(iter(self._workspaces))]
        workspace = self._workspaces.setdefault(shape, {}).setdefault((layer, direction), {})
        input_size = getattr(self, f"weight_ih_l{layer}").shape[1]
        if not self.proj_size:
            return self._kernel(T, N, self.hidden_size, dtype, direction == 1, input_size, workspace=workspace)
        w_hr = getattr(self, f"weight_hr_l{layer}" + ("_reverse" if direction else "")).data
        return _LSTMProjectionKernel(T, N, self.hidden_size, dtype, direction == 1, input_size, w_hr, workspace=workspace)

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
            x = kernels[0].output if len(kernels) == 1 else np.concatenate([k.output for k in kernels], axis=2)
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

    def backward(self, doutput, dstate=None, input_grad=True):
        """doutput: gradient of output (or None); dstate: of h_n (LSTM: (h_n, c_n)), None allowed.

        Returns dx, or (dx, dh_0) / (dx, (dh_0, dc_0)) when forward was given hx; dx is None with
        ``input_grad=False`` (the input is data that needs no gradient, torch's requires_grad=False)."""
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
        dx = dx.transpose(1, 0, 2) if batched and self.batch_first else dx if batched else dx[:, None]  # (L, N, D * H_out)
        H, D = self._output_size(), 2 if self.bidirectional else 1
        dstates0 = [np.empty_like(g) for g in self._to_internal_states(batched)]
        for layer in reversed(range(self.num_layers)):
            x, kernels = layers[layer]
            if layer < len(masks):
                dx = dx * masks[layer]
            dinput = None
            for direction, kernel in enumerate(kernels):
                index = layer * D + direction
                dstate_n = [None if g is None else g[index] for g in dfinals]
                dlayer, dstate0, grads = _backward_direction(kernel, x, dx[:, :, direction * H:(direction + 1) * H],
                                                             dstate_n, self.bias, input_grad or layer > 0)
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                for stem, grad in grads.items():
                    getattr(self, stem + suffix).accumulate_grad(grad, owned=True)
                for store, grad in zip(dstates0, dstate0):
                    store[index] = grad
                dinput = dlayer if dinput is None else dinput + dlayer
            dx = dinput  # (L, N, H_in of this layer)
        dx = None if dx is None else self._to_external(dx, batched)
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
        kernel = _forward_direction(self._kernel(1, x.shape[1], self.hidden_size, dtype, False, self.input_size), x,
                                    states0, *w)
        outputs = [s if batched else s[0] for s in kernel.final()]
        self._outputs = outputs
        self._cache = (kernel, x, batched, hx is not None)
        return self._pack_states(outputs)

    def backward(self, dh, *dcarried, input_grad=True):
        """One gradient per output (LSTMCell: dh, dc, or the tuple (dh, dc)); returns dx, or (dx, dhx)
        when forward was given hx; dx is None with ``input_grad=False`` (the input is data)."""
        kernel, x, batched, hx_given = require_forward(self, self._cache)
        grads = list(dh) if isinstance(dh, tuple) and not dcarried else [dh, *dcarried]
        if len(grads) != len(self._states):
            raise TypeError(f"{type(self).__name__}.backward: expected {len(self._states)} gradient(s), got {len(grads)}")
        for grad, out, state_name in zip(grads, self._outputs, ("h'", "c'")):
            if grad is not None:
                check_grad(grad, out, f"gradient of {state_name}")
        grads = [None if g is None else g if batched else g[None] for g in grads]  # (N, H)
        dy = np.zeros_like(kernel.output) if grads[0] is None else grads[0][None]  # (1, N, H)
        dx, dstate0, param_grads = _backward_direction(kernel, x, dy, [None, *grads[1:]], self.bias, input_grad)
        for stem, grad in param_grads.items():
            getattr(self, stem).accumulate_grad(grad, owned=True)
        dx = None if dx is None else dx[0] if batched else dx[0, 0]
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
