from click.testing import CliRunner
from datasets_fixtures import make_ferplus_folders, write_image

from fer_bench.cli import main
from fer_bench.datasets.report import prepare


def ferplus_tree(root):
    votes = {"FER2013Train": [[10] + [0] * 9, [0, 8, 0, 0, 0, 0, 0, 0, 2, 0], [0, 5, 5] + [0] * 7],
             "FER2013Valid": [[0, 0, 0, 0, 0, 0, 0, 6, 4, 0]], "FER2013Test": [[0, 0, 9] + [0] * 7]}
    return make_ferplus_folders(root / "ferplus", votes)


def test_prepare_counts_per_class_and_split(tmp_path):
    ferplus_tree(tmp_path)
    report = prepare("ferplus", tmp_path)
    counts = report.counts()
    assert counts.at["neutral", "train"] == 1 and counts.at["happiness", "train"] == 1
    assert counts.at["contempt", "val"] == 1 and counts.at["surprise", "test"] == 1
    assert counts.at["total", "total"] == 4
    assert report.ok and "dropped: unknown 1" in report.render()


def test_prepare_cli_with_check_images(tmp_path):
    ferplus_tree(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["datasets", "prepare", "ferplus", "--root", str(tmp_path),
                                  "--check-images"])
    assert result.exit_code == 0, result.output
    assert "decoded every image: 0 failed" in result.output and "total" in result.output
    (tmp_path / "ferplus/FER2013Test/fer0000004.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result = runner.invoke(main, ["datasets", "prepare", "ferplus", "--check-images"],
                           env={"FER_BENCH_DATA": str(tmp_path)})
    assert result.exit_code == 1
    assert "1 failed" in result.output and "FER2013Test/fer0000004.png" in result.output


def test_prepare_cli_options_and_errors(tmp_path):
    ferplus_tree(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["datasets", "prepare", "ferplus", "--root", str(tmp_path),
                                  "-o", "mode=probability"])
    assert result.exit_code == 0 and "dropped: unknown" not in result.output
    result = runner.invoke(main, ["datasets", "prepare", "rafdb", "--root", str(tmp_path)])
    assert result.exit_code != 0 and "list_patition_label.txt" in result.output


def test_prepare_check_faces_reports_a_rate(tmp_path):
    write_image(tmp_path / "happy" / "a.png", 0, size=48)
    report = prepare(f"folder:{tmp_path}", face_crop="haar", check_faces=True)
    assert report.faces.sum() == 1 and "face detector: found" in report.render()


def test_info_prints_layout_codes_splits_and_terms():
    result = CliRunner().invoke(main, ["datasets", "info", "rafdb"])
    assert result.exit_code == 0
    out = result.output
    assert "list_patition_label.txt" in out and "1 -> surprise" in out and "7 -> neutral" in out
    assert "train_/test_" in out and "terms:" in out
    assert CliRunner().invoke(main, ["datasets", "info", "ferplus"]).output.count("->") >= 10
    bad = CliRunner().invoke(main, ["datasets", "info", "nope"])
    assert bad.exit_code != 0 and "unknown dataset" in bad.output


def test_every_real_adapter_has_a_card():
    from fer_bench.datasets.registry import card_for, dataset_entry, dataset_names

    for name in dataset_names():
        if not dataset_entry(name).generated:
            assert card_for(name) is not None, name


def test_prepare_a_generated_preset():
    result = CliRunner().invoke(main, ["datasets", "prepare", "synth-lab:n=28,size=32"])
    assert result.exit_code == 0, result.output
    assert "synth-lab: 28 images" in result.output


def test_prepare_folder_with_on_error_as_an_option_or_in_the_spec(tmp_path):
    write_image(tmp_path / "happy" / "a.png")
    write_image(tmp_path / "bored" / "b.png")
    runner = CliRunner()
    for args in (["-o", "on_error=skip"], ["--on-error", "skip"],
                 ["--on-error", "skip", "-o", "on_error=skip"]):
        result = runner.invoke(main, ["datasets", "prepare", f"folder:{tmp_path}", *args])
        assert result.exit_code == 0, result.output
        assert "1 images" in result.output and "unknown class folder" in result.output
    result = runner.invoke(main, ["datasets", "prepare",
                                  f"folder:{tmp_path}:on_error=skip,name=mine"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("mine: 1 images")
    result = runner.invoke(main, ["datasets", "prepare", f"folder:{tmp_path}", "--on-error",
                                  "raise", "-o", "on_error=skip"])
    assert result.exit_code == 2 and "on_error" in result.output
