"""Secure aggregation by pairwise masking (Bonawitz et al., 2017), from scratch: the server learns
the sum of the clients' updates and nothing else, and the sum survives clients dropping out.
Shared by both twins (never twinned): it acts on the NumPy updates the server receives.

1. Fixed-point encoding: x -> round(x 2^16) mod 2^32, so that sums are exact integer sums; uint32
   arithmetic wraps modulo 2^32 by itself.
2. Key agreement: client i has a secret a_i and publishes g^a_i mod P. Clients i and j both derive
   s_ij from g^(a_i a_j) (Diffie-Hellman), and i adds PRG(s_ij) for every j > i and subtracts it for
   j < i: the pairwise masks cancel in the sum over all clients. A self-mask PRG(b_i) is added too,
   so that an update that arrives late cannot be unmasked from the pairwise seeds alone.
3. Dropout recovery: each client deals Shamir shares (threshold t) of a_i and b_i to the others.
   For a survivor the server asks t clients for shares of b_i and removes its self-mask; for a client
   that dropped after the keys were agreed it asks for shares of a_u, rebuilds s_uv and removes the
   masks the survivors added for u. Fewer than t shares reveal nothing of a secret.

The group (P = 2^127 - 1, g = 3) and Python's ``random``-free NumPy PRG are of teaching size:
they show the protocol, not a production-strength instance. Shares would travel encrypted.
"""
import hashlib

import numpy as np

from scratch.plumbing import check_int, check_rng

FIELD = 2 ** 127 - 1  # a Mersenne prime: Shamir's field and the Diffie-Hellman modulus
GENERATOR = 3
SCALE = 2 ** 16  # fixed point: 16 fractional bits
MODULUS_BITS = 32  # sums live in uint32, which wraps modulo 2^32


def encode(x, num_clients=1):
    """Fixed-point x -> uint32 (two's complement); refused if ``num_clients`` such values could overflow the signed range."""
    limit = 2 ** (MODULUS_BITS - 1) / SCALE / num_clients
    if not np.all(np.abs(x) < limit):
        raise ValueError(f"update: expected |values| < {limit:g} so that {num_clients} of them sum exactly, got max {np.max(np.abs(x)):g}")
    return np.round(np.asarray(x, np.float64) * SCALE).astype(np.int64).astype(np.uint32)


def decode(total):
    """uint32 sum -> float: read as a signed 32-bit integer, divided by the scale."""
    return total.astype(np.int32).astype(np.float64) / SCALE


def prg(seed, size):
    """The mask PRG(seed): ``size`` uint32 values from NumPy's generator seeded with ``seed``."""
    return np.random.default_rng(seed).integers(0, 2 ** MODULUS_BITS, size, dtype=np.uint32)


def seed_of(shared_secret):
    """A PRG seed from a group element, through SHA-256 (both ends compute the same)."""
    return int.from_bytes(hashlib.sha256(shared_secret.to_bytes(16, "big")).digest()[:8], "big")


def share(secret, num_shares, threshold, rng):
    """Shamir: the points (x, f(x)) for x = 1..num_shares of a random polynomial f of degree threshold - 1 with f(0) = secret."""
    coefficients = [secret] + [int.from_bytes(rng.bytes(16), "big") % FIELD for _ in range(threshold - 1)]
    return {x: sum(c * pow(x, power, FIELD) for power, c in enumerate(coefficients)) % FIELD for x in range(1, num_shares + 1)}


def reconstruct(shares):
    """f(0) from points {x: f(x)}, by Lagrange interpolation in the field."""
    secret = 0
    for x, y in shares.items():
        numerator = denominator = 1
        for other in shares:
            if other != x:
                numerator = numerator * -other % FIELD
                denominator = denominator * (x - other) % FIELD
        secret = (secret + y * numerator * pow(denominator, -1, FIELD)) % FIELD
    return secret


class SecAggClient:
    """Client ``index`` (1-based: its Shamir x-coordinate) with its key pair and self-mask seed."""

    def __init__(self, index, rng):
        check_rng(rng, optional=False)
        self.index = index
        self.secret_key = int.from_bytes(rng.bytes(16), "big") % (FIELD - 2) + 1
        self.public_key = pow(GENERATOR, self.secret_key, FIELD)
        self.self_seed = int.from_bytes(rng.bytes(8), "big")
        self.received = {}  # from client j: (share of a_j, share of b_j) at this client's x

    def deal(self, num_clients, threshold, rng):
        """{j: (share of a_i, share of b_i)} for every client j (the dealer keeps its own)."""
        keys, seeds = share(self.secret_key, num_clients, threshold, rng), share(self.self_seed, num_clients, threshold, rng)
        return {j: (keys[j], seeds[j]) for j in keys}

    def pair_seed(self, other_public_key):
        return seed_of(pow(other_public_key, self.secret_key, FIELD))

    def masked_input(self, update, public_keys):
        """y_i = x_i + PRG(b_i) + sum_{j > i} PRG(s_ij) - sum_{j < i} PRG(s_ij), in uint32: all the server ever sees of x_i."""
        y = encode(update, len(public_keys)) + prg(self.self_seed, update.size).reshape(update.shape)
        for j, key in public_keys.items():
            if j != self.index:
                mask = prg(self.pair_seed(key), update.size).reshape(update.shape)
                y = y + mask if j > self.index else y - mask
        return y

    def unmasking_shares(self, survivors, dropped):
        """What the server may learn from this client: shares of b_j for survivors, of a_u for the dropped, never both for one client."""
        return ({j: self.received[j][1] for j in survivors}, {u: self.received[u][0] for u in dropped})


def secure_sum(updates, threshold, dropped=(), rng=None):
    """Run the protocol for ``updates`` {client index (1..n): float array}; the clients in ``dropped``
    agree keys and deal shares, then drop before sending their masked input. Returns (the sum of the
    survivors' updates, decoded, and the masked inputs the server saw)."""
    rng = np.random.default_rng() if rng is None else check_rng(rng)
    num_clients = len(updates)
    threshold = check_int(threshold, "threshold", 2)
    if threshold > num_clients:
        raise ValueError(f"threshold: expected at most the {num_clients} clients, got {threshold}")
    if sorted(updates) != list(range(1, num_clients + 1)):
        raise ValueError(f"updates: expected clients indexed 1..{num_clients}, got {sorted(updates)}")
    clients = {i: SecAggClient(i, rng) for i in updates}
    public_keys = {i: client.public_key for i, client in clients.items()}  # round 0: advertise keys
    for i, client in clients.items():  # round 1: deal shares (encrypted to each recipient in the protocol)
        for j, pair in client.deal(num_clients, threshold, rng).items():
            clients[j].received[i] = pair
    survivors = [i for i in clients if i not in set(dropped)]
    if len(survivors) < threshold:
        raise ValueError(f"dropped: expected at least threshold={threshold} of {num_clients} clients to survive, got {len(survivors)}")
    masked = {i: clients[i].masked_input(updates[i], public_keys) for i in survivors}  # round 2: masked inputs
    total = sum(masked.values(), np.zeros_like(next(iter(masked.values()))))
    helpers = survivors[:threshold]  # round 3: any t survivors answer
    answers = [clients[h].unmasking_shares(survivors, list(dropped)) for h in helpers]
    shape = total.shape
    for i in survivors:  # remove each survivor's self-mask
        self_seed = reconstruct({h: answer[0][i] for h, answer in zip(helpers, answers)})
        total = total - prg(self_seed, total.size).reshape(shape)
    for u in dropped:  # remove the pairwise masks the survivors added for the dropped client u
        secret_key = reconstruct({h: answer[1][u] for h, answer in zip(helpers, answers)})
        for v in survivors:
            mask = prg(seed_of(pow(public_keys[v], secret_key, FIELD)), total.size).reshape(shape)
            total = total - mask if u > v else total + mask  # v added +mask for u > v, -mask for u < v: take it off
    return decode(total), masked
