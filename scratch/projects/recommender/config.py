"""Project 1's run settings, shared by both twins (never twinned)."""
import math
from dataclasses import dataclass

from scratch.plumbing import TrainingConfig, check_int, check_positive_int, check_real

# SGD settings for MovieLens-sized data (test RMSE 0.873 on a random 90/10 split of dslabs'
# 100k ratings, 50 factors; batch 256 with lr 0.5 gets the same in twice the time: most of
# a step is the optimizer's pass over every weight). weight_decay is the optimizer's (coupled
# L2): every step it shrinks every row of every embedding, whether the batch touched it or not. That is gradient
# descent on  mean squared error + weight_decay / 2 * |all weights|^2,  the ridge objective
# that ALS minimises with reg = num_ratings * weight_decay / 2 (3e-4 on 72k ratings: ~11, ALS's
# default 10). A rarely rated item gets few data gradients against the same shrinkage, so it
# stays near the global mean: the prior one wants for sparse rows. The loss is a batch mean,
# so each rating's step is lr / batch_size: hence the large-looking lr.
MF_CONFIG = TrainingConfig(optimizer="sgd", lr=2.0, lr_schedule="cosine", weight_decay=3e-4, batch_size=1024,
                           num_epochs=30, patience=3)


@dataclass
class SparseSGDConfig:
    """The classic SGD for matrix factorisation (train.py): a constant lr, the L2 penalty ``reg``
    on the rows each rating touches, mini-batches of ``batch_size`` ratings in a fresh order each
    epoch, early stopping on validation loss after ``patience`` epochs without improvement."""
    lr: float = 4.0
    reg: float = 0.1
    batch_size: int = 1024
    num_epochs: int = 120
    patience: int = 8
    seed: int = 0

    def __post_init__(self):
        for name in ("batch_size", "num_epochs", "patience"):
            check_positive_int(getattr(self, name), name)
        check_int(self.seed, "seed", 0)
        self.lr = check_real(self.lr, "lr", 0.0, math.inf, low_open=True, high_open=True, expected="a positive number")
        self.reg = check_real(self.reg, "reg", 0.0, math.inf, high_open=True, expected="a non-negative number")


# Tuned on the demo's validation part (5% of the 90% training split of dslabs' MovieLens, 50 factors):
# reg 0.1 reaches validation RMSE 0.869 after about 100 epochs (test 0.878); surprise's reg 0.02
# overfits (validation 0.893), 0.15 and above underfit. The loss is a batch mean, so a row's step is
# 2 lr / batch_size times the sum over its ratings in the batch: a user holding c of them has a bias
# step of 2 lr c / batch_size, which diverges past 2. lr 10 learns faster on all of MovieLens
# (busiest user: ~24 ratings a batch) but diverges on the 60-user sample (~174); lr 4 is safe up
# to 256. The patience rides out the plateau while the factors grow from their small start.
SPARSE_SGD_CONFIG = SparseSGDConfig()
