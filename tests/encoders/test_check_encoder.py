"""check-encoder: passes for every built-in and the template, and catches each kind of
broken encoder it promises to catch."""
from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from fer_bench import check_encoder as checks
from fer_bench.check_encoder import check_encoder
from fer_bench.cli import main
from fer_bench.encoder import Encoder, EncoderInfo, Preprocessing
from fer_bench.encoder_registry import get_encoder
from fer_bench.encoders.resnet import build_resnet18_trunk
from fer_bench.weights import save_encoder_weights

N = 3  # the CLI default is 32; a few faces exercise every check


@pytest.fixture(scope="module")
def generated():
    return checks.generated_faces(N, seed=0)


@pytest.fixture
def quick_faces(monkeypatch, generated):
    """Render the generated faces once per module, not once per check."""
    monkeypatch.setattr(checks, "generated_faces", lambda n, seed: generated[:n])


def failed(report) -> set[str]:
    return {c.name for c in report.checks if not c.passed}


def test_generated_faces_are_uint8_colour(generated):
    assert generated.dtype == torch.uint8 and generated.shape[:2] == (N, 3)


@pytest.mark.parametrize("spec, options", [
    ("random-resnet18", {}),
    ("pixels", {}),
    ("fer_bench.encoders.template:make_encoder", {}),
])
def test_builtins_and_template_pass(quick_faces, spec, options):
    report = check_encoder(get_encoder(spec, **options), n=N)
    assert report.passed, report.format()
    assert report.throughput > 0 and report.throughput_batch1 > 0
    assert len(report.checks) == 10


def test_crs_cont_with_a_weights_file_passes(quick_faces, tmp_path):
    path = tmp_path / "crs.safetensors"
    save_encoder_weights(build_resnet18_trunk().state_dict(), path,
                         {"revision": "test", "input_size": 32})
    report = check_encoder(get_encoder("crs-cont", weights=str(path)), n=N)
    assert report.passed, report.format()
    assert "crs-cont (revision test-" in report.format()


# -- broken encoders ----------------------------------------------------------------------
def _info(dim=8) -> EncoderInfo:
    return EncoderInfo(name="broken", revision="r0", embed_dim=dim,
                       preprocessing=Preprocessing(input_size=16, mean=(0.5,) * 3,
                                                   std=(0.5,) * 3), layer="out")


class SmallNet(nn.Module):
    def __init__(self, dropout=0.0):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.bn(self.conv(x)).mean((2, 3)))


class TrainModeDropout(Encoder):
    """Switches its model to training mode inside the forward: dropout stays on."""

    def build(self):
        return SmallNet(dropout=0.5)

    def forward_features(self, model, x):
        model.train()
        return model(x)


class TrainModeBatchNorm(Encoder):
    """Calls BatchNorm in training mode: batch statistics and running-stat updates."""

    def build(self):
        return SmallNet()

    def forward_features(self, model, x):
        model.bn.train()
        return model(x)


class FloatFriendly(Encoder):
    """Overrides embed to take floats: preprocessing can be skipped."""

    def build(self):
        return SmallNet()

    def embed(self, images):
        if images.is_floating_point():
            return torch.zeros(images.shape[0], 8)
        return super().embed(images)


class EagerLoader(Encoder):
    def __init__(self, info):
        super().__init__(info)
        _ = self.model  # loads at construction: a cache hit would still pay for it

    def build(self):
        return SmallNet()


class WrongDim(Encoder):
    def build(self):
        return SmallNet()


def test_train_mode_dropout_is_caught(quick_faces):
    found = failed(check_encoder(TrainModeDropout(_info()), n=N))
    assert {"determinism", "batch-size invariance", "eval mode"} <= found


def test_train_mode_batchnorm_is_caught(quick_faces):
    report = check_encoder(TrainModeBatchNorm(_info()), n=N)
    assert {"batch-size invariance", "eval mode"} <= failed(report)
    eval_msg = next(c.message for c in report.checks if c.name == "eval mode")
    assert "bn" in eval_msg and "running_mean" in eval_msg


def test_overridden_embed_is_caught(quick_faces):
    assert failed(check_encoder(FloatFriendly(_info()), n=N)) == {"sealed entry point",
                                                                  "uint8 input only"}


def test_eager_weights_are_caught(quick_faces):
    assert failed(check_encoder(EagerLoader(_info()), n=N)) == {"lazy weights"}


def test_wrong_dimension_is_reported_not_raised(quick_faces):
    report = check_encoder(WrongDim(_info(dim=5)), n=N)
    assert not report.passed
    assert "declares 5-d" in next(c.message for c in report.checks if c.name == "embed")


def test_grey_input_is_checked(monkeypatch):
    colour = torch.randint(0, 256, (N, 3, 16, 16), generator=torch.Generator().manual_seed(0),
                           dtype=torch.uint8)  # no generated face happens to be grey here
    monkeypatch.setattr(checks, "generated_faces", lambda n, seed: colour[:n])

    class GreyBreaks(SmallNet):
        def forward(self, x):
            if x[:, 0].equal(x[:, 1]):  # a grey image replicated to three channels
                raise RuntimeError("colour images only")
            return super().forward(x)

    class Enc(Encoder):
        def build(self):
            return GreyBreaks()

    assert failed(check_encoder(Enc(_info()), n=N)) == {"grey and colour input"}


def test_build_errors_are_reported():
    class Missing(Encoder):
        def build(self):
            raise FileNotFoundError("weights.bin")

    report = check_encoder(Missing(_info()), n=N)
    assert not report.passed and "weights.bin" in report.format()


# -- command line -------------------------------------------------------------------------
def make_broken(weights=None, device="cpu"):
    return TrainModeBatchNorm(_info())


def test_cli_passes_and_prints_metadata_and_throughput(quick_faces):
    result = CliRunner().invoke(main, ["check-encoder", "pixels", "-n", str(N),
                                       "--device", "cpu", "-o", "size=8"])
    assert result.exit_code == 0, result.output
    assert "pixels (revision grey8)" in result.output and "64-d" in result.output
    assert "PASS  batch-size invariance" in result.output
    assert f"img/s at batch {N}" in result.output and "all checks passed" in result.output


def test_cli_exit_code_1_on_failure(quick_faces):
    result = CliRunner().invoke(main, ["check-encoder", f"{__name__}:make_broken",
                                       "-n", str(N), "--device", "cpu"])
    assert result.exit_code == 1
    assert "FAIL  eval mode" in result.output and "FAILED" in result.output


def test_cli_reports_missing_crs_cont_weights(monkeypatch, tmp_path):
    from fer_bench.encoders import crs_cont

    monkeypatch.setattr(crs_cont, "SHIPPED_DIR", tmp_path)
    result = CliRunner().invoke(main, ["check-encoder", "crs-cont", "--device", "cpu"])
    assert result.exit_code == 1
    assert "fer-bench pretrain --method crs-cont" in result.output
    assert "Traceback" not in result.output


def test_nan_features_fail_the_finite_check(quick_faces):
    class NaNNet(SmallNet):
        def forward(self, x):
            return super().forward(x) * float("nan")

    class Enc(Encoder):
        def build(self):
            return NaNNet()

    report = check_encoder(Enc(_info()), n=N)
    assert failed(report) == {"finite"}
    assert "'broken' (revision r0) produced non-finite" in report.format()


@pytest.mark.gpu
@pytest.mark.parametrize("spec", ["random-resnet18", "pixels",
                                  "fer_bench.encoders.template:make_encoder"])
def test_builtins_pass_on_cuda(spec):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    report = check_encoder(get_encoder(spec, device="cuda"), n=32)
    assert report.passed, report.format()
