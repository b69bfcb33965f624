"""``lora``: low-rank adapters through the peft library, backbone frozen (Hu et al. 2022)."""

from __future__ import annotations

from torch import nn

from benchmark.core.hashing import derived_seed
from benchmark.model.backbones import Backbone
from benchmark.model.encoding import EncodedTask
from benchmark.core.errors import UserError
from benchmark.model.task_model import TaskModel
from strategies.base import Strategy, register_strategy


@register_strategy("lora")
class LoRA(Strategy):
    """LoRA via peft with the backbone frozen; ``per_task: true`` keeps one adapter per task.

    Target modules default to peft's choice for the model type (q_proj and v_proj for
    Llama). Adapters follow the task being scored and are disabled on the
    language-model path, so perplexity measures the untouched backbone.
    """

    trains_backbone = False

    def __init__(self, *, r: int = 8, lora_alpha: int = 16, lora_dropout: float = 0.0, per_task: bool = False, target_modules: list[str] | None = None) -> None:
        if r < 1 or lora_dropout < 0:
            raise ValueError("r must be >= 1 and lora_dropout >= 0")
        self.r, self.lora_alpha, self.lora_dropout, self.per_task, self.target_modules = r, lora_alpha, lora_dropout, per_task, target_modules

    def config(self):  # noqa: ANN201 - peft's LoraConfig
        from peft import LoraConfig

        return LoraConfig(r=self.r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout, target_modules=self.target_modules, bias="none")

    def check_backbone(self, backbone: Backbone) -> None:
        """Every named target module must exist in the backbone (peft's own matching rule decides)."""
        from peft import LoraConfig
        from peft.tuners.tuners_utils import check_target_module_exists

        names = [name for name, _ in backbone.model.named_modules() if name]
        for target in self.target_modules or []:
            if not any(check_target_module_exists(LoraConfig(target_modules=[target]), name) for name in names):
                linear = sorted({name.rsplit(".", 1)[-1] for name, m in backbone.model.named_modules() if isinstance(m, nn.Linear)})
                raise UserError(
                    f"strategy_args.lora.target_modules names {target!r}, which model {backbone.name!r} does not have; "
                    f"its linear layers are {linear}"
                )

    @property
    def shardable(self) -> bool:  # type: ignore[override]
        # One shared set is in place before the model is sharded; per-task sets would be added to a sharded model later.
        return not self.per_task

    def added_parameters(self, backbone: nn.Module, tasks: int) -> int:
        from peft.tuners.tuners_utils import check_target_module_exists
        from peft.utils import TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING

        # peft's own choice of modules when none are named; A (r x in) and B (out x r) per module and set.
        targets = self.target_modules or TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING.get(backbone.config.model_type, [])
        config = self.config()
        config.target_modules = set(targets)
        per_set = sum(
            self.r * sum(module.weight.shape[:2]) for name, module in backbone.named_modules()
            if name and getattr(module, "weight", None) is not None and module.weight.dim() == 2 and check_target_module_exists(config, name)
        )
        return per_set * (tasks if self.per_task else 1)

    def wrap_model(self, model: TaskModel) -> TaskModel:
        import torch
        from peft import get_peft_model

        with torch.random.fork_rng(devices=[]):
            first = self.run.tasks[0].head if self.per_task else "shared"
            # LoRA's A matrices: seeded by (seed, set), so a task's set is the same whatever the order.
            torch.manual_seed(derived_seed(self.run.seed, "lora", first))
            model.backbone = get_peft_model(model.backbone, self.config(), adapter_name=first)
        self.peft_model = model.backbone
        model.router.listen(self.follow)
        return model

    def follow(self, head: str | None) -> None:
        """Router listener: the task's adapter for a task; none for language modelling or a task with no adapter yet.

        peft makes exactly the enabled, active adapter trainable, so this also decides
        what the optimizer sees.
        """
        layers = self.peft_model.base_model
        if head is None or (self.per_task and head not in self.peft_model.peft_config):
            layers.disable_adapter_layers()
            return
        layers.enable_adapter_layers()
        if self.per_task:
            self.peft_model.set_adapter(head)

    def before_task(self, model: TaskModel, task: EncodedTask) -> None:
        if self.per_task and task.head not in self.peft_model.peft_config:
            import torch

            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(derived_seed(self.run.seed, "lora", task.head))
                self.peft_model.add_adapter(task.head, self.config())
        self.follow(task.head)  # trainable before the trainer builds its optimizer

    def state_dict(self) -> dict[str, object]:
        # LoRA weights travel with the model's; the strategy only records which adapters exist.
        return {"adapters": sorted(self.peft_model.peft_config)}

    def load_state_dict(self, state: dict[str, object]) -> None:
        import torch

        for name in state["adapters"]:  # type: ignore[union-attr]
            if name not in self.peft_model.peft_config:
                with torch.random.fork_rng(devices=[]):
                    self.peft_model.add_adapter(name, self.config())

    def extra_memory_bytes(self) -> int:
        return sum(p.numel() * p.element_size() for n, p in self.peft_model.named_parameters() if "lora_" in n)
