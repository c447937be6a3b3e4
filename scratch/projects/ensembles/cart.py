"""CART's engine, shared by every tree of project 14 (never twinned): the node arrays, the split
search, the depth-first and best-first builders and cost-complexity pruning.

It follows scikit-learn's Cython (``sklearn/tree/_splitter.pyx``, ``_criterion.pyx``,
``_tree.pyx``, ``_utils.pyx``) closely enough that a tree grown here equals scikit-learn's node
for node. What that takes, and why each point matters:

- X is float32; two sorted neighbours are a candidate split only when ``v[p] > v[p-1] + 1e-7``
  in float32 (closer values count as a tie, as ``FEATURE_THRESHOLD`` does); the threshold is
  ``v[p-1] / 2 + v[p] / 2`` in float64; rows go left when ``float64(x) <= threshold``.
- The proxy improvement is computed with scikit-learn's float operations in its order (class
  sums of squares accumulated class by class), and the best split is replaced only on a strictly
  greater proxy: across features in the order they are visited, within a feature the first
  position. Ties are common (two features that separate the same rows), so order decides.
- Features are visited in a Fisher-Yates order drawn from scikit-learn's 32-bit xorshift
  ``rand_r`` (seeded from ``RandomState(random_state).randint(0, 2**31 - 1)``), with its
  bookkeeping of constant features, which changes the draws of every node below.
- Rows of zero weight are dropped before growing, as scikit-learn's splitter does.

The split search is vectorised: for the visited features at once, the node's columns are
sorted, the class weights (or weighted targets) are summed cumulatively, and every threshold of
every feature is scored in one array expression. Python loops run over features (the random
visiting order), nodes and classes, never over samples or thresholds.

Sums equal scikit-learn's to the bit when they are exact: integer sample weights (bootstrap
counts included) and, for regression, integer-valued targets. Fractional sums (gradient boosting
fits trees to gradients, AdaBoost to fractional weights) depend on their order, so then the
``best`` splitter keeps scikit-learn's in-place sample order (``Splitter.in_place``): a node's
rows in the order scikit-learn's array holds them, its totals summed row after row in that order,
the left sums of each candidate as a running sum along the sorted column (from the node's total
backward where scikit-learn's criterion takes that shorter way past a run of ties), and the
children's order as scikit-learn's swap partition leaves it (``swap_partition``). That order is fixed when
feature values are distinct; among tied values it is whatever scikit-learn's introsort left,
which is not emulated, so with ties the last bits may still differ.
"""
import numpy as np

RAND_R_MAX = 2**31 - 1  # sklearn/utils/_random.pxd: the largest value rand_r returns
FEATURE_THRESHOLD = np.float32(1e-7)  # sklearn/tree/_partitioner.pxd
EPSILON = np.finfo(np.float64).eps  # sklearn/tree/_tree.pyx
TREE_LEAF, TREE_UNDEFINED = -1, -2
LN2 = np.log(2.0)


class RandR:
    """scikit-learn's ``our_rand_r``: a 32-bit xorshift (Marsaglia 2003), reduced modulo 2**31."""

    def __init__(self, seed):
        self.state = int(seed) & 0xFFFFFFFF

    def next(self):
        s = self.state or 1  # a zero state is replaced by DEFAULT_SEED
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.state = s
        return s % (RAND_R_MAX + 1)

    def randint(self, low, high):
        """An int in [low, high), as ``rand_int``."""
        return low + self.next() % (high - low)

    def uniform(self, low, high):
        """A float64 in [low, high), as ``rand_uniform``."""
        return (high - low) * float(self.next()) / float(RAND_R_MAX) + low


class Tree:
    """The fitted tree as parallel node arrays under scikit-learn's ``tree_`` names.

    ``value`` (node_count, 1, n_classes) holds class fractions (classifier) or means (regressor).
    """

    def __init__(self, n_features, n_classes):
        self.n_features, self.n_outputs, self.max_n_classes = n_features, 1, n_classes
        self._nodes = {key: [] for key in ("children_left", "children_right", "feature", "threshold", "impurity",
                                           "n_node_samples", "weighted_n_node_samples", "value")}
        self.max_depth = 0

    def add_node(self, parent, is_left, is_leaf, feature, threshold, impurity, n_node_samples, weighted, value):
        """Append a node (scikit-learn's ``_add_node``) and register it with its parent; its id."""
        nodes, node_id = self._nodes, len(self._nodes["feature"])
        if parent != TREE_UNDEFINED:
            nodes["children_left" if is_left else "children_right"][parent] = node_id
        for key, item in (("children_left", TREE_LEAF), ("children_right", TREE_LEAF),
                          ("feature", TREE_UNDEFINED if is_leaf else feature),
                          ("threshold", float(TREE_UNDEFINED) if is_leaf else threshold), ("impurity", impurity),
                          ("n_node_samples", n_node_samples), ("weighted_n_node_samples", weighted), ("value", value)):
            nodes[key].append(item)
        return node_id

    def make_leaf(self, node_id):
        for key, item in (("children_left", TREE_LEAF), ("children_right", TREE_LEAF), ("feature", TREE_UNDEFINED),
                          ("threshold", float(TREE_UNDEFINED))):
            self._nodes[key][node_id] = item

    def finish(self, max_depth):
        """Freeze the node lists into arrays."""
        for key, dtype in (("children_left", np.intp), ("children_right", np.intp), ("feature", np.intp),
                           ("threshold", np.float64), ("impurity", np.float64), ("n_node_samples", np.intp),
                           ("weighted_n_node_samples", np.float64)):
            setattr(self, key, np.array(self._nodes[key], dtype=dtype))
        self.value = np.array(self._nodes["value"], dtype=np.float64).reshape(-1, 1, self.max_n_classes)
        self.max_depth = max_depth
        del self._nodes
        return self

    @property
    def node_count(self):
        return len(self.feature)

    @property
    def n_leaves(self):
        return int(np.sum(self.children_left == TREE_LEAF))

    def apply(self, X):
        """X (n, n_features) float32 -> the leaf id of each row; one step per depth level for all rows."""
        node = np.zeros(X.shape[0], dtype=np.intp)
        rows = np.arange(X.shape[0])
        for _ in range(self.max_depth):
            inner = self.children_left[node] != TREE_LEAF
            if not inner.any():
                break
            at, n = rows[inner], node[inner]
            left = X[at, self.feature[n]].astype(np.float64) <= self.threshold[n]  # float32 compared in float64
            node[at] = np.where(left, self.children_left[n], self.children_right[n])
        return node

    def predict(self, X):
        return self.value[self.apply(X)]  # (n, 1, K)

    def compute_feature_importances(self, normalize=True):
        """Mean decrease in impurity, accumulated node by node in id order as scikit-learn does."""
        inner = np.flatnonzero(self.children_left != TREE_LEAF)
        w, imp = self.weighted_n_node_samples, self.impurity
        left, right = self.children_left[inner], self.children_right[inner]
        decrease = w[inner] * imp[inner] - w[left] * imp[left] - w[right] * imp[right]
        importances = np.zeros(self.n_features)
        np.add.at(importances, self.feature[inner], decrease)  # in node order, one add at a time
        importances /= w[0]
        if normalize:
            total = np.sum(importances)
            if total > 0.0:
                importances /= total
        return importances


def swap_partition(order, left):
    """The rows ``order`` (n,) after scikit-learn's ``partition_samples_final``, the in-place two-pointer partition
    whose result becomes the children's sample order; ``left`` (n,) says which go left.

    The pointer p reads the rows from the front; a row going left stays (p advances), a row going right is swapped
    with the row at the back pointer e (e retreats) and the row swapped in is read next. So the rows are read as
    alternating runs: from the front up to and including the next right-goer, then from the back up to and including
    the next left-goer, and so on, n - 1 reads in all. The left-goers end in the order read, the right-goers at the
    back in the reverse order read, the unread row between them. Computed as one sort of the two streams by run.
    """
    n = len(order)
    back = left[::-1]
    run = np.concatenate([np.cumsum(~left) - ~left, np.cumsum(back) - back])  # runs ended before each row
    stream, index = np.repeat([0, 1], n), np.tile(np.arange(n), 2)
    read = np.lexsort((index, stream, run))[:n]  # F-run 0, B-run 0, F-run 1, ...: n - 1 read and the one left
    rows, goes_left = np.concatenate([order, order[::-1]])[read], np.concatenate([left, back])[read]
    examined, examined_left = rows[:-1], goes_left[:-1]
    return np.concatenate([examined[examined_left], rows[-1:], examined[~examined_left][::-1]])


class Criterion:
    """Impurities and proxies of a node and of all its candidate splits at once.

    ``stats`` (K, n) are what is summed: one-hot class weights (classification) or ``w * y``
    (regression, K = 1); ``sq`` (n,) ``w * y * y`` for regression's impurity; ``labels`` (n,) the
    class index of each row (classification). Sums keep the class
    axis first, (K, ...), so the running sums along the samples are contiguous.
    """

    def __init__(self, name, stats, sq=None, labels=None):
        self.name, self.stats, self.sq, self.labels = name, stats, sq, labels

    def impurity(self, sums, weight, sq_sum=None):
        """Impurity from class sums (K, ...) and weights (...): scikit-learn's formulas, in its order."""
        if self.name == "gini":
            sq_count = 0.0
            for k in range(sums.shape[0]):  # class by class, as the Cython accumulates
                sq_count = sq_count + sums[k] * sums[k]
            return 1.0 - sq_count / (weight * weight)
        if self.name in ("entropy", "log_loss"):
            entropy = 0.0
            for k in range(sums.shape[0]):
                count = sums[k]
                with np.errstate(divide="ignore", invalid="ignore"):
                    p = count / weight
                    term = np.where(count > 0.0, p * (np.log(p) / LN2), 0.0)
                entropy = entropy - term
            return entropy
        mean = sums[0] / weight  # squared_error; the C compiler turns pow(mean, 2.0) into mean * mean,
        return sq_sum / weight - mean * mean  # which NumPy's ** 2.0 (pow) may round differently

    def proxy(self, left, w_left, right, w_right):
        """The proxy improvement of splits, larger is better (``proxy_impurity_improvement``)."""
        if self.name == "squared_error":
            return (left[0] * left[0]) / w_left + (right[0] * right[0]) / w_right
        return -w_right * self.impurity(right, w_right) - w_left * self.impurity(left, w_left)


class Node:
    """A node's rows: ``samples`` (n,), and ``rows`` (A, n) sorted by each feature of ``alive`` (A,), the
    features not yet found constant (a feature constant in a node stays constant in all below it)."""

    def __init__(self, samples, alive, rows):
        self.samples, self.alive, self.rows = samples, alive, rows

    @property
    def n(self):
        return len(self.samples)

    def partition(self, goes_left, keep):
        """(left, right) children by ``goes_left`` (a mask over all rows of X), keeping the features ``keep``
        (A,); boolean selection keeps each sorted column's order, so both children stay sorted."""
        if self.rows is None:  # not presorted: the rows alone
            return (Node(self.samples[goes_left[self.samples]], None, None),
                    Node(self.samples[~goes_left[self.samples]], None, None))
        rows = self.rows[keep]
        to_left = goes_left[rows]  # (A', n)
        left = self.samples[goes_left[self.samples]]
        n_left, n_right = len(left), self.n - len(left)
        alive = self.alive[keep]
        return (Node(left, alive, rows[to_left].reshape(-1, n_left)),
                Node(self.samples[~goes_left[self.samples]], alive, rows[~to_left].reshape(-1, n_right)))


class LazyBounds:
    """Whether a feature is constant in a node, from its min and max over the node's rows, computed when the
    feature is first drawn (a forest draws a few of many features; the rest are never read)."""

    def __init__(self, X_T, samples):
        self.X_T, self.samples, self.low, self.high = X_T, samples, {}, {}

    def __getitem__(self, feature):
        column = self.X_T[feature, self.samples]
        self.low[feature], self.high[feature] = low, high = column.min(), column.max()
        return high <= low + FEATURE_THRESHOLD


class Splitter:
    """scikit-learn's dense splitter, ``best`` or ``random``, with its feature bookkeeping."""

    def __init__(self, X, criterion, max_features, min_samples_leaf, min_weight_leaf, seed, splitter="best"):
        self.X, self.criterion, self.max_features = X, criterion, max_features
        self.X_T = np.ascontiguousarray(X.T)  # (F, N): one feature's values side by side
        self.min_samples_leaf, self.min_weight_leaf, self.kind = min_samples_leaf, min_weight_leaf, splitter
        self.rand = RandR(seed)
        self.in_place = False  # set by the Builder once the weights are known
        self.features = list(range(X.shape[1]))
        self.constant_features = [0] * X.shape[1]

    def node_stats(self, samples):
        """(sums (K,), weight, impurity) of the node holding ``samples``."""
        if self.in_place:  # row after row, in scikit-learn's order
            sq_sum = None if self.criterion.sq is None else np.cumsum(self.criterion.sq[samples])[-1]
            return np.cumsum(self.criterion.stats[:, samples], axis=1)[:, -1], np.cumsum(self.weights[samples])[-1], sq_sum
        sums = self.criterion.stats[:, samples].sum(axis=1)
        weight = self.weights[samples].sum()
        sq_sum = None if self.criterion.sq is None else self.criterion.sq[samples].sum()
        return sums, weight, sq_sum

    def draw_features(self, constant, n_known_constants):
        """Visit features in scikit-learn's Fisher-Yates order; the non-constant ones visited, and the
        node's constant count. ``constant[f]`` says whether feature f is constant in this node."""
        features, max_features = self.features, self.max_features
        f_i, n_visited, n_found, n_drawn = len(features), 0, 0, 0
        n_known = n_total = n_known_constants
        state = self.rand.state
        while f_i > n_total and (n_visited < max_features or n_visited <= n_found + n_drawn):
            n_visited += 1
            # RandR.randint(n_drawn, f_i - n_found), inlined: this loop runs once per feature per node
            state = state or 1
            state ^= (state << 13) & 0xFFFFFFFF
            state ^= state >> 17
            state ^= (state << 5) & 0xFFFFFFFF
            f_j = n_drawn + (state & RAND_R_MAX) % (f_i - n_found - n_drawn)
            if f_j < n_known:  # a feature known constant from an ancestor: skip, remember it is drawn
                features[n_drawn], features[f_j] = features[f_j], features[n_drawn]
                n_drawn += 1
                continue
            f_j += n_found
            feature = features[f_j]
            if constant[feature]:
                features[f_j], features[n_total] = features[n_total], features[f_j]
                n_found += 1
                n_total += 1
                continue
            f_i -= 1
            features[f_i], features[f_j] = features[f_j], features[f_i]
        self.rand.state = state
        visited = features[f_i:][::-1]  # each visited feature was swapped to the end, in turn
        # constant features keep their order for the children and siblings
        features[:n_known] = self.constant_features[:n_known]
        self.constant_features[n_known:n_total] = features[n_known:n_total]
        return visited, n_total

    @property
    def presorted(self):
        """Hold every node's rows sorted by each feature (worth it when most features are visited), or sort
        the visited features' columns at each node (forests: a few of many features; extra trees: none)."""
        return self.kind == "best" and 2 * self.max_features >= self.X_T.shape[0]

    def root(self, samples):
        """The root Node: presorted, every feature's rows sorted once, and no node below the root sorts again."""
        if not self.presorted:
            return Node(samples, None, None)
        alive = np.arange(self.X_T.shape[0])
        return Node(samples, alive, samples[np.argsort(self.X_T[:, samples], axis=1)])

    def node_split(self, node, impurity, n_known_constants, stats):
        """The best split of ``node`` (a Node) whose ``stats`` are (class sums, weight, square sum): a dict
        (feature, threshold, left, right, their stats and impurities, improvement) or None, and the
        constant count handed to the children."""
        n, n_all = node.n, self.X_T.shape[1]
        if node.rows is None:  # sort the visited features' columns here
            bounds = LazyBounds(self.X_T, node.samples)
            if self.kind == "random":
                return self._split_random(node, bounds, impurity, n_known_constants, stats)
            visited, n_total = self.draw_features(bounds, n_known_constants)
            if not visited:
                return None, n_total
            block = self.X_T[np.ix_(visited, node.samples)]  # (m, n)
            order = np.argsort(block, axis=1)
            rows, values, constant = node.samples[order], np.take_along_axis(block, order, axis=1), None
        else:
            n_features, alive = self.X_T.shape[0], node.alive
            low, high = np.zeros(n_features, np.float32), np.zeros(n_features, np.float32)
            low[alive], high[alive] = self.X_T[alive, node.rows[:, 0]], self.X_T[alive, node.rows[:, -1]]
            constant = high <= low + FEATURE_THRESHOLD  # features constant in an ancestor read as 0 <= 0 + 1e-7
            visited, n_total = self.draw_features(constant.tolist(), n_known_constants)
            if not visited:
                return None, n_total
            self._position[alive] = np.arange(len(alive))
            rows = node.rows[self._position[visited]]  # (m, n) the rows in each visited feature's sorted order
            values = self.X_T.ravel()[np.array(visited)[:, None] * n_all + rows]  # (m, n) sorted values
        # A candidate cuts between sorted rows g and g + 1 (p = g + 1 rows go left).
        gap = values[:, 1:] > values[:, :-1] + FEATURE_THRESHOLD  # (m, n-1)
        if self.min_samples_leaf > 1:
            n_left = np.arange(1, n)
            gap &= (n_left >= self.min_samples_leaf) & (n - n_left >= self.min_samples_leaf)
        feature, g = np.nonzero(gap)  # candidates in (visiting order, position) order
        if not len(g):
            return None, n_total
        if self.in_place:  # scikit-learn's running sums along each sorted column
            left, w_left = self._running_left_sums(rows, feature, g, stats)
        else:
            left, w_left = self._left_sums(rows, gap, feature, g)  # (K, C), (C,)
        total, weight, _ = stats
        right, w_right = total[:, None] - left, weight - w_left
        keep = (w_left >= self.min_weight_leaf) & (w_right >= self.min_weight_leaf)
        if not keep.any():
            return None, n_total
        with np.errstate(divide="ignore", invalid="ignore"):
            proxy = np.where(keep, self.criterion.proxy(left, w_left, right, w_right), -np.inf)
        # a strictly-greater scan keeps the first best: the first feature visited, there the first position
        c = int(np.argmax(proxy))
        j, p = feature[c], g[c]
        threshold = float(values[j, p]) / 2.0 + float(values[j, p + 1]) / 2.0
        return self._finish(node, constant, visited[j], threshold, impurity, stats, left[:, c], w_left[c],
                            rows[-1]), n_total

    def _running_left_sums(self, rows, feature, g, stats):
        """Class sums (K, C) and weights (C,) left of each candidate cut, as scikit-learn's criterion
        ``update`` reaches them, row by row in sorted order. It moves from the last cut to the next from
        the nearer end: forward, adding the rows between them, or, when fewer rows lie beyond the new cut
        than between the two cuts (a long run of tied values), from the node's total backward,
        subtracting the rows from the last down to the cut (``reverse_reset``). The rounding follows the
        path taken, so each forward stretch is one running sum from its own start: a segment per
        column, plus one per backward move (at most about log2(n) of them per column)."""
        n = rows.shape[1]
        total, weight, _ = stats
        stats_rows, w_rows = self.criterion.stats[:, rows], self.weights[rows]  # (K, m, n), (m, n)
        pos = g + 1  # rows left of each cut
        first = np.r_[True, feature[1:] != feature[:-1]]  # a column's first cut starts from 0 (reset)
        before = np.where(first, 0, np.r_[0, pos[:-1]])
        backward = pos - before > n - pos  # a column's first cut too, when it lies past the middle
        if not backward.any():
            return np.cumsum(stats_rows, axis=2)[:, feature, g], np.cumsum(w_rows, axis=1)[feature, g]
        starts = first | backward  # each forward stretch's first cut (from 0, or from a backward move)
        segment = np.cumsum(starts) - 1  # (C,) the stretch of every cut
        seg_feature, seg_start = feature[starts], np.where(backward, pos, 0)[starts]
        # a backward move's value: the total minus the rows n-1 down to the cut, subtracted one by one
        back_sums = np.cumsum(np.concatenate([np.broadcast_to(total[:, None, None], (len(total), rows.shape[0], 1)),
                                              -stats_rows[:, :, ::-1]], axis=2), axis=2)  # (K, m, n+1)
        back_w = np.cumsum(np.concatenate([np.full((rows.shape[0], 1), weight), -w_rows[:, ::-1]], axis=1), axis=1)
        seg_base = np.where(seg_start > 0, back_sums[:, seg_feature, n - seg_start], 0.0)  # (K, S)
        seg_w_base = np.where(seg_start > 0, back_w[seg_feature, n - seg_start], 0.0)
        # each stretch: its base, then its column's rows from its start on (zeros past the end)
        index = seg_start[:, None] + np.arange(n)  # (S, n)
        inside = index < n
        index = np.minimum(index, n - 1)
        seg_rows = np.where(inside, stats_rows[:, seg_feature[:, None], index], 0.0)  # (K, S, n)
        seg_w_rows = np.where(inside, w_rows[seg_feature[:, None], index], 0.0)
        runs = np.cumsum(np.concatenate([seg_base[:, :, None], seg_rows], axis=2), axis=2)  # (K, S, n+1)
        w_runs = np.cumsum(np.concatenate([seg_w_base[:, None], seg_w_rows], axis=1), axis=1)
        step = pos - seg_start[segment]  # rows added since the stretch began
        return runs[:, segment, step], w_runs[segment, step]

    def _left_sums(self, rows, gap, feature, g):
        """Class sums (K, C) and weights (C,) left of each candidate cut.

        The plain way is a running sum along every sorted column, ``cumsum(stats[:, rows], axis=2)``,
        read at the cuts: K * m * n additions per node. Here the sorted rows are first grouped into
        the runs between cuts (one ``bincount`` over m * n rows), and the running sum goes over the
        runs only; digits' pixels take 17 values, so a node of n rows has at most 17 runs per feature.
        With integer weights both ways are exact, and equal scikit-learn's row-by-row sums.
        """
        m, n = rows.shape
        run = np.zeros((m, n), dtype=np.intp)
        np.cumsum(gap, axis=1, out=run[:, 1:])  # each sorted row's run within its column
        n_runs = int(run[:, -1].max()) + 1
        run += np.arange(m)[:, None] * n_runs  # (m, n) flat run ids, column by column
        w = None if self.unit_weights else self.weights[rows].ravel()  # unit weights: counts are the sums
        w_runs = np.bincount(run.ravel(), weights=w, minlength=m * n_runs).reshape(m, n_runs).astype(np.float64)
        criterion = self.criterion
        if criterion.labels is not None:  # one class per row: one bincount over (run, class)
            k = criterion.stats.shape[0]
            runs = np.bincount(run.ravel() * k + criterion.labels[rows].ravel(), weights=w,
                               minlength=m * n_runs * k).reshape(m, n_runs, k).transpose(2, 0, 1).astype(np.float64)
        else:
            runs = np.bincount(run.ravel(), weights=criterion.stats[0, rows].ravel(),
                               minlength=m * n_runs).reshape(1, m, n_runs)
        cut = run[feature, g] - feature * n_runs  # the run that ends at each cut
        return np.cumsum(runs, axis=2)[:, feature, cut], np.cumsum(w_runs, axis=1)[feature, cut]

    def _split_random(self, node, bounds, impurity, n_known_constants, stats):
        """ExtraTrees: one uniform threshold per visited feature, drawn as scikit-learn draws it."""
        features, rand = self.features, self.rand
        f_i, n_visited, n_found, n_drawn = len(features), 0, 0, 0
        n_known = n_total = n_known_constants
        samples = node.samples
        n = len(samples)
        row_stats, weights = self.criterion.stats[:, samples], self.weights[samples]
        total, weight, _ = stats
        best_proxy, best = -np.inf, None
        while f_i > n_total and (n_visited < self.max_features or n_visited <= n_found + n_drawn):
            n_visited += 1
            f_j = rand.randint(n_drawn, f_i - n_found)
            if f_j < n_known:
                features[n_drawn], features[f_j] = features[f_j], features[n_drawn]
                n_drawn += 1
                continue
            f_j += n_found
            feature = features[f_j]
            if bounds[feature]:
                features[f_j], features[n_total] = features[n_total], features[f_j]
                n_found += 1
                n_total += 1
                continue
            f_i -= 1
            features[f_i], features[f_j] = features[f_j], features[f_i]
            low, high = float(bounds.low[feature]), float(bounds.high[feature])
            threshold = rand.uniform(low, high)
            if threshold == high:
                threshold = low
            goes_left = self.X_T[feature, samples].astype(np.float64) <= threshold
            n_left = int(goes_left.sum())
            if n_left < self.min_samples_leaf or n - n_left < self.min_samples_leaf:
                continue
            left, w_left = row_stats[:, goes_left].sum(axis=1), weights[goes_left].sum()
            w_right = weight - w_left
            if w_left < self.min_weight_leaf or w_right < self.min_weight_leaf:
                continue
            proxy = self.criterion.proxy(left, w_left, total - left, w_right)
            if proxy > best_proxy:
                best_proxy, best = proxy, (feature, threshold, left, w_left)
        features[:n_known] = self.constant_features[:n_known]
        self.constant_features[n_known:n_total] = features[n_known:n_total]
        if best is None:
            return None, n_total
        return self._finish(node, None, *best[:2], impurity, stats, *best[2:]), n_total

    def _finish(self, node, constant, feature, threshold, impurity, stats, sums_l, w_l, last_sorted=None):
        """The chosen split's children (their rows still sorted by each feature), their stats and
        impurities, and the weighted impurity decrease. The left sums come from the search; the
        right's are the node's minus the left's, as scikit-learn's criterion keeps them.
        ``last_sorted``: the node's rows sorted by the last feature visited, scikit-learn's order
        before the final partition (in-place mode)."""
        goes_left = self.X_T[feature].astype(np.float64) <= threshold  # float32 read in float64
        left, right = node.partition(goes_left, None if constant is None else ~constant[node.alive])
        total, weight, sq_sum = stats
        if self.in_place:
            return self._finish_in_place(node, left, right, feature, threshold, impurity, stats, goes_left,
                                         last_sorted)
        sums_r, w_r, sq_l, sq_r = total - sums_l, weight - w_l, None, None
        if sq_sum is not None:
            sq_l = self.criterion.sq[left.samples].sum()
            sq_r = sq_sum - sq_l
        impurity_left = float(self.criterion.impurity(sums_l, w_l, sq_l))
        impurity_right = float(self.criterion.impurity(sums_r, w_r, sq_r))
        improvement = (weight / self.weighted_n_samples) * (
            impurity - (w_r / weight * impurity_right) - (w_l / weight * impurity_left))
        return {"feature": int(feature), "threshold": threshold, "left": left, "right": right,
                "left_stats": (sums_l, w_l, sq_l), "right_stats": (sums_r, w_r, sq_r), "impurity_left": impurity_left, "impurity_right": impurity_right, "improvement": float(improvement)}


    def _finish_in_place(self, node, left, right, feature, threshold, impurity, stats, goes_left, last_sorted):
        """``_finish`` in scikit-learn's order: the children's rows as its swap partition leaves them, then its
        ``reset``/``update(pos)``: the left sums row by row from the front when the left child is the smaller,
        else the node's total minus the right rows from the back; ``children_impurity`` from the left rows."""
        order = swap_partition(last_sorted, goes_left[last_sorted])
        n_left = left.n
        left.samples, right.samples = order[:n_left], order[n_left:]
        total, weight, sq_sum = stats
        stats_rows, w = self.criterion.stats, self.weights  # (K, N), (N,)
        if n_left <= node.n - n_left:
            sums_l, w_l = np.cumsum(stats_rows[:, left.samples], axis=1)[:, -1], np.cumsum(w[left.samples])[-1]
        else:  # reverse_reset, then subtract from the back
            back = right.samples[::-1]
            sums_l = np.cumsum(np.concatenate([total[:, None], -stats_rows[:, back]], axis=1), axis=1)[:, -1]
            w_l = np.cumsum(np.concatenate([[weight], -w[back]]))[-1]
        sums_r, w_r = total - sums_l, weight - w_l
        sq_l = sq_r = None
        if sq_sum is not None:
            sq_l = np.cumsum(self.criterion.sq[left.samples])[-1]
            sq_r = sq_sum - sq_l
        impurity_left = float(self.criterion.impurity(sums_l, w_l, sq_l))
        impurity_right = float(self.criterion.impurity(sums_r, w_r, sq_r))
        improvement = (weight / self.weighted_n_samples) * (
            impurity - (w_r / weight * impurity_right) - (w_l / weight * impurity_left))
        # the children's own totals are summed again in their order when they are grown (stats None)
        return {"feature": int(feature), "threshold": threshold, "left": left, "right": right, "left_stats": None,
                "right_stats": None, "impurity_left": impurity_left, "impurity_right": impurity_right,
                "improvement": float(improvement)}


class Builder:
    """Grows a Tree depth-first (``max_leaf_nodes`` None) or best-first, as scikit-learn's builders."""

    def __init__(self, splitter, min_samples_split, min_samples_leaf, min_weight_leaf, max_depth, max_leaf_nodes,
                 min_impurity_decrease):
        self.splitter, self.min_samples_split, self.min_samples_leaf = splitter, min_samples_split, min_samples_leaf
        self.min_weight_leaf, self.max_depth, self.max_leaf_nodes = min_weight_leaf, max_depth, max_leaf_nodes
        self.min_impurity_decrease = min_impurity_decrease

    def build(self, tree, weights, value_of):
        splitter = self.splitter
        splitter.weights = weights
        splitter.unit_weights = bool(np.all(weights == 1.0))
        criterion = splitter.criterion
        exact = [weights, criterion.stats] + ([] if criterion.sq is None else [criterion.sq])
        splitter.in_place = splitter.kind == "best" and not all(np.array_equal(a, np.round(a)) for a in exact)
        splitter.weighted_n_samples = float(np.cumsum(weights)[-1])  # in row order, as the Cython adds
        splitter._position = np.zeros(splitter.X_T.shape[0], dtype=np.intp)
        samples = splitter.root(np.flatnonzero(weights != 0.0))  # rows of zero weight never enter the tree
        if self.max_leaf_nodes is None:
            return self._depth_first(tree, samples, value_of)
        return self._best_first(tree, samples, value_of)

    def _may_split(self, n, weight, depth, impurity):
        return not (depth >= self.max_depth or n < self.min_samples_split or n < 2 * self.min_samples_leaf
                    or weight < 2 * self.min_weight_leaf or impurity <= EPSILON)

    def _split(self, samples, depth, impurity, n_constant, stats):
        """(is_leaf, split, constants for the children, sums, weight, impurity) of one node."""
        stats = stats or self.splitter.node_stats(samples.samples)  # the root's; a child's come from its parent's split
        sums, weight, sq_sum = stats
        if impurity is None:  # the root's own impurity; every other node's comes from its parent's split
            impurity = float(self.splitter.criterion.impurity(sums, weight, sq_sum))
        split, n_constant_out = None, n_constant
        if self._may_split(samples.n, weight, depth, impurity):
            split, n_constant_out = self.splitter.node_split(samples, impurity, n_constant, stats)
        is_leaf = split is None or split["improvement"] + EPSILON < self.min_impurity_decrease
        return is_leaf, split, n_constant_out, sums, weight, impurity

    def _depth_first(self, tree, samples, value_of):
        stack = [(samples, 0, TREE_UNDEFINED, False, None, 0, None)]
        max_depth_seen = -1
        while stack:
            samples, depth, parent, is_left, impurity, n_constant, stats = stack.pop()
            is_leaf, split, n_constant, sums, weight, impurity = self._split(samples, depth, impurity, n_constant,
                                                                             stats)
            node_id = tree.add_node(parent, is_left, is_leaf, split and split["feature"], split and split["threshold"],
                                    impurity, samples.n, float(weight), value_of(sums, weight))
            if not is_leaf:  # right pushed first, so the left child is grown (and numbered) first
                stack.append((split["right"], depth + 1, node_id, False, split["impurity_right"], n_constant,
                              split["right_stats"]))
                stack.append((split["left"], depth + 1, node_id, True, split["impurity_left"], n_constant,
                              split["left_stats"]))
            max_depth_seen = max(max_depth_seen, depth)
        return tree.finish(max_depth_seen)

    def _best_first(self, tree, samples, value_of):
        def add(samples, depth, parent, is_left, impurity, stats=None):
            is_leaf, split, _, sums, weight, impurity = self._split(samples, depth, impurity, 0, stats)  # constants reset
            node_id = tree.add_node(parent, is_left, is_leaf, split and split["feature"], split and split["threshold"],
                                    impurity, samples.n, float(weight), value_of(sums, weight))
            return {"node_id": node_id, "depth": depth, "is_leaf": is_leaf, "split": split,
                    "improvement": 0.0 if is_leaf else split["improvement"]}

        frontier = [add(samples, 0, TREE_UNDEFINED, False, None)]
        max_split_nodes, max_depth_seen = self.max_leaf_nodes - 1, -1
        while frontier:
            record = _pop_heap(frontier)
            if record["is_leaf"] or max_split_nodes <= 0:
                tree.make_leaf(record["node_id"])
            else:
                max_split_nodes -= 1
                split = record["split"]
                depth, node_id = record["depth"] + 1, record["node_id"]
                left = add(split["left"], depth, node_id, True, split["impurity_left"], split["left_stats"])
                right = add(split["right"], depth, node_id, False, split["impurity_right"], split["right_stats"])
                _push_heap(frontier, left)
                _push_heap(frontier, right)
            max_depth_seen = max(max_depth_seen, record["depth"])
        return tree.finish(max_depth_seen)


# libstdc++'s push_heap / pop_heap on "improvement <": equal improvements pop in its order, not heapq's.
def _push_heap(heap, record, hole=None, top=0):
    if hole is None:
        heap.append(record)
        hole = len(heap) - 1
    parent = (hole - 1) // 2
    while hole > top and heap[parent]["improvement"] < record["improvement"]:
        heap[hole] = heap[parent]
        hole, parent = parent, (parent - 1) // 2
    heap[hole] = record


def _pop_heap(heap):
    last = heap.pop()
    if not heap:
        return last
    top, heap[0] = heap[0], last
    value, length, hole, child = last, len(heap), 0, 0
    while child < (length - 1) // 2:  # __adjust_heap: move the larger child up
        child = 2 * (child + 1)
        if heap[child]["improvement"] < heap[child - 1]["improvement"]:
            child -= 1
        heap[hole] = heap[child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        heap[hole] = heap[child - 1]
        hole = child - 1
    _push_heap(heap, value, hole, 0)
    return top


def _parents_and_depths(tree):
    """Each node's parent (-2 for the root) and depth, filled one depth level at a time."""
    parent = np.full(tree.node_count, TREE_UNDEFINED, dtype=np.intp)
    depth = np.zeros(tree.node_count, dtype=np.intp)
    inner = np.flatnonzero(tree.children_left != TREE_LEAF)
    parent[tree.children_left[inner]] = inner
    parent[tree.children_right[inner]] = inner
    level = np.array([0])
    while level.size:
        level = level[tree.children_left[level] != TREE_LEAF]
        level = np.concatenate([tree.children_left[level], tree.children_right[level]])
        depth[level] = depth[parent[level]] + 1
    return parent, depth


def _subtree(tree, node):
    """The ids of ``node`` and all nodes below it, one level at a time."""
    found, level = [], np.array([node])
    while level.size:
        found.append(level)
        level = level[tree.children_left[level] != TREE_LEAF]
        level = np.concatenate([tree.children_left[level], tree.children_right[level]])
    return np.concatenate(found)


def prune(tree, ccp_alpha):
    """Minimal cost-complexity pruning (Breiman et al. 1984, ch. 3), as scikit-learn's
    ``_cost_complexity_prune``: cut the weakest link, the inner node of least
    ``(R(node) - R(branch)) / (leaves(branch) - 1)``, until that exceeds ``ccp_alpha``."""
    parent, depth = _parents_and_depths(tree)
    w = tree.weighted_n_node_samples
    r_node = w * tree.impurity / w[0]
    is_leaf = tree.children_left == TREE_LEAF
    r_branch = np.where(is_leaf, r_node, 0.0)
    n_leaves = np.zeros(tree.node_count, dtype=np.intp)
    # every leaf adds its R to each ancestor, leaves in id order (the order of scikit-learn's sums)
    leaf, node, pairs = np.flatnonzero(is_leaf), np.flatnonzero(is_leaf), []
    while node.size:
        keep = node != 0
        leaf, node = leaf[keep], parent[node[keep]]
        pairs.append((leaf, node))
    if pairs:
        leaves, ancestors = (np.concatenate(part) for part in zip(*pairs))
        order = np.argsort(leaves, kind="stable")
        np.add.at(r_branch, ancestors[order], r_node[leaves[order]])
        np.add.at(n_leaves, ancestors, 1)
    candidate, kept, leaves_in = ~is_leaf, np.ones(tree.node_count, dtype=bool), is_leaf.copy()
    while candidate[0]:
        index = np.flatnonzero(candidate)
        alpha = (r_node[index] - r_branch[index]) / (n_leaves[index] - 1)
        weakest = int(index[np.argmin(alpha)])  # the first of the smallest, as a strict '<' scan finds it
        if ccp_alpha < alpha.min():
            break
        below = _subtree(tree, weakest)
        candidate[below], leaves_in[below], kept[below] = False, False, False
        leaves_in[weakest] = kept[weakest] = True
        n_pruned, r_diff = n_leaves[weakest] - 1, r_node[weakest] - r_branch[weakest]
        n_leaves[weakest], r_branch[weakest] = 0, r_node[weakest]
        ancestor = parent[weakest]
        while ancestor != TREE_UNDEFINED:  # up the path to the root
            n_leaves[ancestor] -= n_pruned
            r_branch[ancestor] += r_diff
            ancestor = parent[ancestor]
    return _rebuild(tree, kept, leaves_in, parent, depth)


def _rebuild(tree, kept, leaves_in, parent, depth):
    """The kept nodes renumbered in depth-first pre-order, left first, as scikit-learn rebuilds."""
    left, right = tree.children_left.copy(), tree.children_right.copy()
    left[leaves_in], right[leaves_in] = TREE_LEAF, TREE_LEAF
    size = kept.astype(np.intp)
    for d in range(depth.max(), 0, -1):  # subtree sizes, deepest level first
        level = np.flatnonzero(kept & (depth == d))
        np.add.at(size, parent[level], size[level])
    rank = np.zeros(tree.node_count, dtype=np.intp)
    for d in range(1, depth.max() + 1):  # pre-order rank: a left child follows its parent, a right its sibling
        level = np.flatnonzero(kept & (depth == d))
        p = parent[level]
        is_right = right[p] == level
        rank[level] = rank[p] + 1 + np.where(is_right, size[left[p]], 0)
    old = np.flatnonzero(kept)[np.argsort(rank[kept])]
    new = Tree(tree.n_features, tree.max_n_classes)
    del new._nodes
    inner = ~leaves_in[old]
    new.children_left = np.where(inner, rank[np.maximum(left[old], 0)], TREE_LEAF)
    new.children_right = np.where(inner, rank[np.maximum(right[old], 0)], TREE_LEAF)
    new.feature = np.where(inner, tree.feature[old], TREE_UNDEFINED)
    new.threshold = np.where(inner, tree.threshold[old], float(TREE_UNDEFINED))
    for key in ("impurity", "n_node_samples", "weighted_n_node_samples", "value"):
        setattr(new, key, getattr(tree, key)[old])
    new.max_depth = int(depth[old].max())
    return new
