"""Bad input to max pooling, windows family: a dilated window that lies wholly in the padding holds no
input position, so its maximum has no value and no index. torch checks padding <= kernel_size / 2 but not
the dilation, returns an index outside the plane and writes out of bounds in backward; scratch refuses,
naming the arguments and the first empty window. (No torch here: such a config aborts the process.)"""
import numpy as np
import pytest

from scratch import nn
from scratch.nn import functional as F
from twins.parity import BadInput, assert_bad_input

EXPECTED = r"padding, dilation: expected every window to hold at least one input position, got "


def pool(make, shape, **forward):
    return lambda: make()(np.zeros(shape), **forward)


CASES = [
    BadInput("rows -1 and 2 of a 2-row input (the issue's config)",
             lambda: F.max_pool2d(np.zeros((1, 1, 2, 5)), (2, 1), 1, (1, 0), (3, 1)), ValueError, "max_pool2d",
             EXPECTED + r"kernel_size=\(2, 1\), stride=\(1, 1\), padding=\(1, 0\), dilation=\(3, 1\) on input size "
                        r"\(2, 5\): output row 0 samples rows \[-1, 2\], none in \[0, 2\)"),
    BadInput("columns, module, indices asked for",
             pool(lambda: nn.MaxPool2d((1, 2), 1, (0, 1), (1, 3), return_indices=True), (3, 5, 2)), ValueError, "MaxPool2d",
             EXPECTED + r"kernel_size=\(1, 2\), stride=\(1, 1\), padding=\(0, 1\), dilation=\(1, 3\) on input size "
                        r"\(5, 2\): output column 0 samples columns \[-1, 2\], none in \[0, 2\)"),
    BadInput("ceil mode's only window steps over a 1-pixel input",
             pool(lambda: nn.MaxPool2d(2, 2, 1, 3, ceil_mode=True), (1, 1, 1, 1)), ValueError, "padding, dilation",
             EXPECTED + r"kernel_size=\(2, 2\), stride=\(2, 2\), padding=\(1, 1\), dilation=\(3, 3\) on input size "
                        r"\(1, 1\): output row 0 samples rows \[-1, 2\], none in \[0, 1\)"),
    BadInput("both axes empty, unbatched float32: the rows are named",
             lambda: F.max_pool2d(np.zeros((2, 2, 2), np.float32), 2, 1, 1, 3), ValueError, "kernel_size=(2, 2)",
             EXPECTED + r".* on input size \(2, 2\): output row 0 samples rows \[-1, 2\], none in \[0, 2\)"),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_empty_windows_are_refused(case):
    assert_bad_input(case)
