"""Project 1's run settings, shared by both twins (never twinned)."""
from scratch.plumbing import TrainingConfig

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
