"""The type the backbone's weights are stored in (``--dtype``), as opposed to autocast (``--mixed-precision``).

``fp32`` is what every run before ``--dtype`` used. ``bf16`` and ``fp16`` halve the
memory of weights, gradients, optimizer moments and every parameter-sized strategy
state (anchors, Fisher, teachers), and the optimizer then updates the half-precision
weights themselves: no float32 master copy is kept, and bf16 keeps 8 significant bits,
so an update below 0.2-0.4% of a weight (half its rounding step) is rounded away. ``auto`` is bf16 on a GPU
that computes in bf16 and fp32 everywhere else.
"""

from __future__ import annotations

import torch

from benchmark.core.errors import UserError

WEIGHT_DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_weights_dtype(requested: str, device: torch.device | str) -> str:
    """The dtype name a run stores its weights in on ``device`` (``auto`` resolved), checked to compute there.

    Args:
        requested: ``fp32``, ``bf16``, ``fp16`` or ``auto``.
        device: The run's device.

    Raises:
        UserError: torch cannot compute in that type on the device.
    """
    device = torch.device(device)
    if requested == "auto":
        return "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False) else "fp32"
    if requested != "fp32":
        _check_computes(requested, device)
    return requested


def _check_computes(name: str, device: torch.device) -> None:
    """A matrix product with its gradient in ``name`` on ``device``: the operations every run needs first."""
    if name == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported(including_emulation=False):
        raise UserError(f"--dtype bf16: the GPU {torch.cuda.get_device_name(device)} does not compute in bfloat16; use --dtype fp16 or fp32")
    try:
        weights = torch.ones(4, 4, dtype=WEIGHT_DTYPES[name], device=device, requires_grad=True)
        torch.autograd.grad((weights @ weights).sum(), weights)
    except (RuntimeError, TypeError) as exc:  # a kernel missing for this type on this device
        raise UserError(f"--dtype {name}: torch cannot compute in {WEIGHT_DTYPES[name]} on {device.type} here ({exc}); use --dtype fp32") from exc


def dtype_name(dtype: torch.dtype) -> str:
    """``fp32``, ``bf16`` or ``fp16`` for a torch floating-point type (its torch name otherwise)."""
    return next((name for name, value in WEIGHT_DTYPES.items() if value == dtype), str(dtype).removeprefix("torch."))


def typed_fingerprint(fingerprint: str, dtype: str) -> str:
    """A model fingerprint with its weights' type joined, fp32 left out (fp32 fingerprints predate ``--dtype``)."""
    return fingerprint if dtype == "fp32" else f"{fingerprint}-{dtype}"
