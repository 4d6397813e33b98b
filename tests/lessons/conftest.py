"""Lesson tests train on one thread: the machine is shared and these nets are tiny."""

import torch

torch.set_num_threads(1)
