"""Fully sharded data parallel (``--sharding fsdp``): a run's weights, gradients and optimizer state cut over its processes.

PyTorch's FSDP2 (``torch.distributed.fsdp.fully_shard``) is called directly rather
than through accelerate's FSDP plugin: the harness shards the model once per run
while it makes a new optimizer for every task, calls methods of the model besides
``forward`` (perplexity, answer scoring), and strategies keep state shaped like the
parameters (L2-SP anchors, EWC Fisher) that must be sharded the same way; accelerate's
plugin prepares one model with one optimizer through ``forward`` only. accelerate
still provides the process group, gradient clipping and mixed precision.

Every transformer block is one FSDP unit and the task model is the root (embeddings,
final norm, LM head and task heads). FSDP gathers the root's weights around ``forward``
and the methods in :data:`ENTRY_METHODS`; code that runs parts of the model (answer
scoring through ``body()`` and the LM head) goes through ``TaskModel.whole_model_pass``.
After sharding, every parameter is a DTensor whose local part is this process's rows; a
weight-space penalty computes on the local parts (:func:`local`) and its gradient lands
on them, so no process ever holds the whole model once it is sharded. Every process must
run the same number of forward passes (each one gathers parameters from all):
evaluation fills a process's share with repeats of a batch whose results it discards
(:meth:`benchmark.engine.parallel.Parallel.even_share`).
"""

from __future__ import annotations

import torch
from torch import nn

from benchmark.model.layers import transformer_blocks
from benchmark.model.task_model import TaskModel

# TaskModel's methods that run the model besides forward: FSDP gathers the root's
# parameters around them as it does around forward.
ENTRY_METHODS = ("answer_loss", "answer_logits", "lm_nll", "lm_logits", "features", "whole_model_pass")


def is_sharded(model: nn.Module) -> bool:
    """Whether ``model`` has been cut by :func:`shard_model`."""
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def shard_model(model: TaskModel, device: torch.device) -> None:
    """Shards ``model`` in place over every process of the default process group: one unit per block, the rest at the root.

    A model built on the CPU is moved to ``device`` part by part, as FSDP cuts it: no
    accelerator ever holds the whole model.
    """
    from torch.distributed.fsdp import register_fsdp_forward_method

    shard_module(model, model.body(), device)
    for method in ENTRY_METHODS:
        register_fsdp_forward_method(model, method)


def shard_module(root: nn.Module, body: nn.Module, device: torch.device) -> None:
    """Shards ``root`` in place: each transformer block of ``body`` (a part of ``root``) one unit, the rest of ``root`` another."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    mesh = init_device_mesh(device.type, (torch.distributed.get_world_size(),))
    _, blocks = transformer_blocks(body)
    for block in blocks:
        fully_shard(block, mesh=mesh)
    fully_shard(root, mesh=mesh)


def release_gathered(model: nn.Module) -> None:
    """Frees the root's gathered parameters, so that what follows sees every parameter as its shard.

    FSDP keeps the root's parameters gathered after a forward pass (the backward needs
    them at once); a penalty on the weights that runs after the forward must see the
    sharded parameters, and the backward gathers them again.
    """
    if is_sharded(model):
        model.reshard()  # type: ignore[operator]


def local(tensor: torch.Tensor) -> torch.Tensor:
    """This process's part of a sharded tensor (differentiable), or the tensor itself when it is not sharded."""
    from torch.distributed.tensor import DTensor

    return tensor.to_local() if isinstance(tensor, DTensor) else tensor


def whole_value(value: torch.Tensor) -> torch.Tensor:
    """A reduction of sharded tensors (a partial sum on each process) as the whole model's value; other tensors unchanged."""
    from torch.distributed.tensor import DTensor

    return value.full_tensor() if isinstance(value, DTensor) else value


def summed_over_shards(value: torch.Tensor) -> torch.Tensor:
    """A penalty computed on this process's parts, made the whole model's value on every process.

    The gradient stays that of the local parts (each process's parameters get exactly
    their share of the whole penalty's gradient, with no collective in the backward);
    only the value, which the loss reports and checks for NaN, is summed over processes.
    """
    import torch.distributed as dist

    if not dist.is_initialized() or dist.get_world_size() == 1:
        return value
    total = value.detach().clone()
    dist.all_reduce(total)
    return value + (total - value.detach())
