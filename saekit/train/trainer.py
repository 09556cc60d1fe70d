"""The trainer: one `Trainer` per dictionary, `train()` drives any number of them over one
stream of batches. The loop is short; the dictionary computes its own loss."""

import copy
import logging
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import torch
from torch import Tensor
from tqdm.auto import tqdm

from saekit.distributed import SINGLE_PROCESS, Distributed
from saekit.sae import Dictionary, DictionaryConfig, build, save
from saekit.sae.base import TrainStepOutput, unit_rows_
from saekit.sae.kernels.sparse_ops import auto_rank_dtype
from saekit.train.checkpoint import load_checkpoint, save_checkpoint
from saekit.train.config import SIGN_REFERENCE_BATCH, TrainConfig
from saekit.train.init import geometric_median, norm_scale
from saekit.train.metrics_log import NoLogger, make_logger
from saekit.train.optimizers import ParamGroup, ScheduleFree, make_optimizer
from saekit.train.sources import ALL, Batch, BatchSource, StoreSource
from saekit.train.spread import dictionary_hooks, spread

log = logging.getLogger(__name__)


def all_finite(values: Tensor) -> bool:
    """`torch.isfinite(values).all()` by one reduction: the minimum and the maximum are finite
    exactly when every entry is (NaN propagates through both). 7x faster on the CPU (batch 1024,
    d 64: 22 vs 154 us, 3.5 % of that training step)."""
    if values.numel() == 0:
        return True
    return bool(torch.isfinite(torch.stack(torch.aminmax(values))).all())


ENCODER_PARAMETERS = ("W_enc", "b_enc")


def parameter_groups(sae: Dictionary, encoder_lr_scale: float) -> list[ParamGroup]:
    """The dictionary's parameters as optimizer groups: the encoder's at `encoder_lr_scale`
    times the scheduled rate, the rest at it."""
    named = list(sae.named_parameters())
    encoder = [p for name, p in named if name in ENCODER_PARAMETERS]
    rest = [p for name, p in named if name not in ENCODER_PARAMETERS]
    groups = [{"params": rest, "lr_scale": 1.0}, {"params": encoder, "lr_scale": encoder_lr_scale}]
    return [group for group in groups if group["params"]]


class Trainer:
    """Trains one dictionary on `[batch, d]` inputs; resumes from `out/train_state.pt`."""

    def __init__(
        self,
        cfg: TrainConfig,
        source: BatchSource,
        out: str | Path,
        model_name: str | None = None,
        device: str | torch.device = "cpu",
        distributed: Distributed = SINGLE_PROCESS,
    ):
        self.cfg, self.out, self.device = cfg, Path(out), torch.device(device)
        self.distributed = distributed
        if cfg.batch_size % distributed.world:
            raise ValueError(
                f"batch_size {cfg.batch_size} must divide by {distributed.world} ranks"
            )
        self.hook, self.hook_out = dictionary_hooks(cfg, source)
        if self.hook not in source.hooks or self.hook_out not in source.hooks:
            raise ValueError(f"hooks {self.hook}, {self.hook_out} not in the data ({source.hooks})")
        torch.manual_seed(cfg.seed)
        self.sae: Dictionary = build(self._dictionary_config(source, model_name)).to(self.device)
        self.sae.distributed = distributed
        if hasattr(self.sae, "rank_dtype"):
            self.sae.rank_dtype = self._rank_dtype()
        decay = cfg.weight_decay
        decay = self.sae.default_weight_decay if decay is None else decay
        self.peak_lr = cfg.peak_lr(self.sae.d_sae)
        self.dead_window = cfg.dead_window_for(type(self.sae))
        self.encoder_scale = cfg.encoder_lr_scale_for(type(self.sae))
        self.latent_step_exponent = self._latent_step_exponent()
        groups = parameter_groups(self.sae, self.encoder_scale)
        self.opt = make_optimizer(cfg.optimizer, groups, self.peak_lr, decay)
        self.step = 0
        self.skipped = 0
        self.since_fired = torch.zeros(self.sae.d_sae, dtype=torch.long, device=self.device)
        self.scale_in = self.scale_out = 1.0
        self.data_fingerprint = source.fingerprint()
        self.autocast = cfg.autocast == "on" or (
            cfg.autocast == "auto" and self.device.type == "cuda"
        )
        self.logger = (
            make_logger(cfg.log_to, self.out, asdict(cfg)) if distributed.is_main else NoLogger()
        )
        self._resume()

    def _latent_step_exponent(self) -> float:
        exponent = self.cfg.latent_step_exponent_for(type(self.sae))
        if exponent and not self.sae.counts_firings:
            raise ValueError(
                f"latent_step_exponent needs a dictionary that counts its firings (topk); "
                f"{self.sae.cfg.architecture} does not: leave it unset"
            )
        return exponent

    def _rank_dtype(self) -> torch.dtype | None:
        precision = self.cfg.rank_precision
        if precision == "auto":
            return auto_rank_dtype(self.device, self.sae.cfg.d_in)
        return torch.bfloat16 if precision == "bfloat16" else None

    def _dictionary_config(self, source: BatchSource, model_name: str | None) -> DictionaryConfig:
        """The configured dictionary with what the data says: widths, hooks, model."""
        d_in, d_out = source.dim(self.hook), source.dim(self.hook_out)
        transcoder = self.cfg.dictionary.hook_name_out is not None or d_out != d_in
        return replace(
            self.cfg.dictionary,
            d_in=d_in,
            d_out=d_out if transcoder else None,
            hook_name=self.hook,
            model_name=model_name,
            held_out=held_out.to_dict()
            if (held_out := getattr(source, "held_out", None))
            else None,
        )

    # -- state -------------------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "config": asdict(self.cfg),
            "data_fingerprint": self.data_fingerprint,
            "architecture": self.sae.cfg.architecture,
            "step": self.step,
            "skipped": self.skipped,
            "scale_in": self.scale_in,
            "scale_out": self.scale_out,
            "since_fired": self.since_fired.cpu(),
            "weights": {k: v.cpu() for k, v in self.sae.state_dict().items()},
            "optimizer": self.opt.state_dict(),
            "rng": torch.get_rng_state(),
        }

    def _resume(self) -> None:
        state = load_checkpoint(self.out)
        if state is None:
            return
        if state["architecture"] != self.sae.cfg.architecture:
            raise ValueError(
                f"{self.out} holds a checkpoint of a {state['architecture']} dictionary, not "
                f"{self.sae.cfg.architecture}: use another --out"
            )
        differences = config_differences(state["config"], asdict(self.cfg))
        if differences or state["data_fingerprint"] != self.data_fingerprint:
            raise ValueError(
                f"{self.out} holds a checkpoint made with other settings or data "
                f"({', '.join(differences) or 'data'} differ): use another --out"
            )
        self.sae.load_state_dict(state["weights"])
        try:
            self.opt.load_state_dict(state["optimizer"])
        except ValueError as error:  # e.g. parameter groups of an earlier saekit
            raise ValueError(
                f"{self.out} holds a checkpoint whose optimizer state does not fit this trainer "
                f"({error}): use another --out"
            ) from error
        self.step, self.skipped = state["step"], state["skipped"]
        self.scale_in, self.scale_out = state["scale_in"], state["scale_out"]
        self.since_fired = state["since_fired"].to(self.device)
        torch.set_rng_state(state["rng"])
        log.info("resumed %s at step %d", self.out, self.step)

    def save_checkpoint(self) -> None:
        if self.distributed.is_main:
            save_checkpoint(self.out, self.state())

    # -- training ----------------------------------------------------------------------------
    def lr_at(self, step: int) -> float:
        cfg = self.cfg
        warm = min(1.0, (step + 1) / cfg.warmup) if cfg.warmup else 1.0
        decay_from = cfg.steps if cfg.schedule_free else int(cfg.decay_start * cfg.steps)
        decay = (
            1.0 if step < decay_from else max(0.0, (cfg.steps - step) / (cfg.steps - decay_from))
        )
        return self.peak_lr * warm * decay

    @torch.no_grad()
    def _initialise(self, x: Tensor, y: Tensor) -> None:
        if self.cfg.normalize_activations:
            target = self.cfg.input_norm_for(type(self.sae))
            self.scale_in = norm_scale(x, target)
            self.scale_out = self.scale_in if self.hook_out == self.hook else norm_scale(y, target)
        x, y = x * self.scale_in, y * self.scale_out
        median = self.cfg.geometric_median_init and self.sae.cfg.apply_b_dec_to_input
        self.sae.initialise_from_data(x, geometric_median(x) if median else y.mean(0))

    def train_step(self, batch: Batch) -> TrainStepOutput | None:
        """One optimisation step on this rank's slice of the global batch (`batch` holds only
        that slice); None (and counted) when the batch or its loss is not finite (on any rank)."""
        x = batch[self.hook].to(self.device, torch.float32)
        y = batch[self.hook_out].to(self.device, torch.float32) if self.hook_out != self.hook else x
        if self.step == 0 and self.skipped == 0:
            whole_x = self.distributed.gather(x)  # the global batch: the same on every rank
            self._initialise(whole_x, whole_x if y is x else self.distributed.gather(y))
        finite = all_finite(x) and (y is x or all_finite(y))
        if not self.distributed.all_ok(finite):
            self.skipped += 1
            return None
        x, y = x * self.scale_in, y * self.scale_out
        dead = self.since_fired >= self.dead_window
        with torch.autocast(self.device.type, torch.bfloat16, enabled=self.autocast):
            out = self.sae.training_loss(x, y, dead_mask=dead)
        if bool(self.distributed.any(~torch.isfinite(out.loss.detach()).reshape(1))):
            self.skipped += 1
            return None
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(self.step) * group["lr_scale"]
        self.opt.zero_grad(set_to_none=True)
        out.loss.backward()
        self.distributed.average_gradients(self.sae.parameters())
        if self.latent_step_exponent:
            self._scale_encoder_steps(self.distributed.sum(out.firings))
        if self.sae.unit_norm_decoder:
            self.sae.remove_parallel_decoder_grad()
        self.opt.step()
        if self.sae.unit_norm_decoder and isinstance(self.opt, ScheduleFree):
            self.opt.constrain(self.sae.W_dec, unit_rows_)
        elif self.sae.unit_norm_decoder:
            self.sae.normalize_decoder()
        self.since_fired += x.shape[0] * self.distributed.world
        self.since_fired.masked_fill_(self.distributed.any(out.fired), 0)
        self.step += 1
        if self.step % self.cfg.log_every == 0:
            self._log(out, y)
        return out

    def _scale_encoder_steps(self, firings: Tensor) -> None:
        """Each latent's encoder step at (its firings / the average latent's at the reference
        batch)**exponent, where that is below the encoder group's scale."""
        reference = SIGN_REFERENCE_BATCH * self.sae.cfg.k / self.sae.d_sae
        scale = (firings / reference).pow_(self.latent_step_exponent)
        scale = scale.div_(self.encoder_scale).clamp_(max=1.0)  # the group's rate holds the rest
        for param in (self.sae.W_enc, self.sae.b_enc):
            self.opt.scale_steps(param, scale)

    def _log(self, out: TrainStepOutput, target: Tensor) -> None:
        metrics = {name: float(value) for name, value in out.losses.items()}
        metrics |= {
            "loss": float(out.loss.detach()),
            "l0": float(out.l0),
            "fvu": fvu(out.reconstruction.float(), target),
            "dead_fraction": self.dead_fraction(),
            "lr": self.lr_at(self.step - 1),
        }
        self.logger.log(self.step, metrics)

    def dead_fraction(self) -> float:
        return float((self.since_fired >= self.dead_window).float().mean())

    def finish(self) -> Dictionary:
        """Save the dictionary with the input scaling folded into its weights."""
        self.save_checkpoint()
        self.logger.close()
        if isinstance(self.opt, ScheduleFree):
            self.opt.average()  # the averaged iterate is the trained dictionary
            if self.sae.unit_norm_decoder:  # its rows, unlike y's, drift off the unit sphere
                self.sae.normalize_decoder()
        final = copy.deepcopy(self.sae).cpu().eval()
        final.fold_input_scaling(self.scale_in, self.scale_out)
        meta = {
            "training": {
                "config": asdict(self.cfg),
                "steps": self.step,
                "skipped_batches": self.skipped,
                "ranks": self.distributed.world,
                "data_fingerprint": self.data_fingerprint,
            }
        }
        if self.distributed.is_main:
            save(final, self.out, metadata=meta)
        return final


def config_differences(saved: dict, current: dict, prefix: str = "") -> list[str]:
    """Dotted names of the settings that differ between two (nested) config dicts; a setting
    the saved config lacks (an earlier saekit's, which did not have it) differs too, since what
    its default resolves to may have changed with it."""
    differences = []
    for key in sorted(set(saved) | set(current)):
        old, new = saved.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += config_differences(old, new, f"{prefix}{key}.")
        elif old != new or key not in saved:
            differences.append(prefix + key)
    return differences


def fvu(reconstruction: Tensor, target: Tensor) -> float:
    """Fraction of variance unexplained."""
    total = (target - target.mean(0)).pow(2).sum()
    return float((target - reconstruction).pow(2).sum() / total.clamp_min(1e-12))


def train(
    source: BatchSource,
    configs: TrainConfig | Sequence[TrainConfig],
    outs: str | Path | Sequence[str | Path],
    model_name: str | None = None,
    device: str | torch.device = "cpu",
    progress: bool = True,
    distributed: Distributed = SINGLE_PROCESS,
    distribute_dictionaries: bool = False,
) -> list[Dictionary]:
    """Train one dictionary per config on one pass over `source` (they share batch size and
    seed, so they see the same batches); resume from checkpoints found in `outs`.

    Under torchrun (`distributed` from `process_group_from_env()`), every dictionary is trained
    data parallel across the ranks; with `distribute_dictionaries`, each dictionary instead
    belongs to one rank (`spread.py`: balanced by parameter count), every rank reads its slice of
    each global batch, and the slices are exchanged so each rank trains its own dictionaries on
    the full global batches. Returns the dictionaries this rank trained."""
    configs = [configs] if isinstance(configs, TrainConfig) else list(configs)
    outs = [outs] if isinstance(outs, str | Path) else list(outs)
    shared = {(c.batch_size, c.seed, c.tokens, c.holdout) for c in configs}
    if len(configs) != len(outs) or len(shared) != 1:
        raise ValueError(
            "train several dictionaries with one output folder each and the same "
            "batch_size, seed, tokens and holdout"
        )
    if isinstance(source, StoreSource):
        source = source.without_held_out(configs[0].holdout)
    pairs = list(zip(configs, outs, strict=True))
    batch_size, seed, total = configs[0].batch_size, configs[0].seed, configs[0].steps
    part = distributed.local_rows(batch_size) if distributed.active else ALL
    exchange = None
    if distributed.active and distribute_dictionaries:
        plan = spread(configs, source, distributed)
        pairs = [
            p for p, owner in zip(pairs, plan.owners, strict=True) if owner == distributed.rank
        ]
        exchange, trained_by = plan.exchange, Distributed()
    else:
        trained_by = distributed
    trainers = [Trainer(c, source, o, model_name, device, trained_by) for c, o in pairs]
    start = min((t.step + t.skipped for t in trainers), default=total)
    if exchange is not None:
        start = exchange.earliest(start)
    bar = tqdm(
        total=total,
        initial=start,
        desc="train",
        unit="step",
        disable=not (progress and distributed.is_main),
    )
    every = configs[0].checkpoint_every
    for index, batch in enumerate(source.batches(batch_size, seed, start, part), start=start):
        if index >= total:
            break
        if exchange is not None:
            batch = exchange(batch)
        for trainer in trainers:
            if trainer.step + trainer.skipped > index:
                continue  # this one had already passed this batch before the resume
            out = trainer.train_step(batch)
            if trainer is trainers[0] and out is not None and index % 10 == 0:
                _show(bar, trainer, batch, out)
        bar.update(1)
        if every and (index + 1) % every == 0:
            for trainer in trainers:
                trainer.save_checkpoint()
    bar.close()
    return [trainer.finish() for trainer in trainers]


def _show(bar: tqdm, trainer: Trainer, batch: Batch, out) -> None:
    target = batch[trainer.hook_out].float() * trainer.scale_out
    bar.set_postfix(
        loss=f"{out.loss.item():.3g}",
        fvu=f"{fvu(out.reconstruction, target.to(out.reconstruction)):.3f}",
        l0=f"{float(out.l0):.1f}",
        dead=f"{trainer.dead_fraction():.2f}",
    )
