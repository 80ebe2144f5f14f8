"""Per-round series with confidence bands, the one plotting style, and figures saved for
papers (PNG at 300 dpi and a vector copy)."""

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("matplotlib")

import commons
from commons import plotting
from commons.experiments.scenarios import benchmark_cpr_v1
from commons.experiments.sweeps import Design, run_sweep


@pytest.fixture(scope="module")
def run():
    return benchmark_cpr_v1(10).run(30, 8, rng=4)


def band_edges(ax, t):
    """Lower and upper edge of the first filled band at x = t."""
    verts = ax.collections[0].get_paths()[0].vertices
    ys = verts[np.isclose(verts[:, 0], t), 1]
    return ys.min(), ys.max()


@pytest.mark.parametrize("level", [0.95, 0.8])
def test_the_band_is_the_t_interval_of_each_round(run, level):
    fig = plotting.bands(run, "efficiency", level=level)
    ax = fig.axes[0]
    x = run.series["efficiency"]
    mean = x.mean(axis=0)
    half = stats.t.ppf(0.5 + level / 2, x.shape[0] - 1) * x.std(axis=0, ddof=1) / np.sqrt(8)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), mean, rtol=1e-12)
    for t in (0, 7, 29):
        lo, hi = band_edges(ax, t)
        assert lo == pytest.approx(mean[t] - half[t], abs=1e-12)
        assert hi == pytest.approx(mean[t] + half[t], abs=1e-12)
    assert ax.get_xlabel() == "round t"
    assert ax.get_ylabel() == "efficiency (share of the best sustainable rent)"
    assert "(n = 8)" in ax.get_legend().get_texts()[0].get_text()


def test_unknown_series_are_named_with_those_that_exist(run):
    with pytest.raises(ValueError, match=r"series: no series 'wealth'; there are 'burned', "
                                         r"'compliance', .*'efficiency', .*'stock'"):
        plotting.bands(run, "wealth")
    with pytest.raises(ValueError, match=r"series: no series 'wealth'; there are "):
        plotting.trajectories(run, "wealth")
    final = benchmark_cpr_v1(10).run(5, 2, rng=1, record="final")
    with pytest.raises(ValueError, match=r"no series 'stock'; the run recorded none .*"
                                         r"record='summary'"):
        plotting.bands(final, "stock")
    with pytest.raises(ValueError, match=r"level must be a number in \(0, 1\)"):
        plotting.bands(run, "stock", level=95)
    with pytest.raises(ValueError, match="by: a RunResult has no swept parameters"):
        plotting.bands(run, "stock", by="fine")
    with pytest.raises(TypeError, match="result must be a RunResult or a SweepResult"):
        plotting.bands({"stock": 1}, "stock")


@pytest.fixture(scope="module")
def sweep():
    return run_sweep("cpr-v1", Design.grid(fine=[0.0, 8.0], growth=[0.15, 0.3]),
                     replicates=3, rounds=20, rng=2, fixed={"n": 10}, progress=False,
                     series=["stock", "efficiency"], series_dtype="float32")


def test_a_sweep_gets_a_band_per_point_or_per_value(sweep):
    ds = sweep.to_xarray()
    fig = plotting.bands(sweep, "stock")
    ax = fig.axes[0]
    assert len(ax.lines) == 4
    np.testing.assert_allclose(ax.lines[3].get_ydata(),
                               ds["stock"].values[3].astype(float).mean(axis=0), rtol=1e-12)
    assert ax.get_legend().get_texts()[3].get_text() == "fine=8, growth=0.3 (n = 3)"
    fig = plotting.bands(sweep, "efficiency", by="fine", level=0.9)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fine=0 (n = 6)",
                                                                   "fine=8 (n = 6)"]
    pooled = ds["efficiency"].values[ds["fine"].values == 8.0].reshape(6, 20).astype(float)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), pooled.mean(axis=0), rtol=1e-12)
    half = stats.t.ppf(0.95, 5) * pooled.std(axis=0, ddof=1) / np.sqrt(6)
    verts = ax.collections[1].get_paths()[0].vertices
    ys = verts[np.isclose(verts[:, 0], 10), 1]
    assert ys.max() == pytest.approx(pooled.mean(axis=0)[10] + half[10], abs=1e-9)
    # lines are the Okabe–Ito colours, in order
    from matplotlib.colors import to_hex
    assert [to_hex(ln.get_color()).upper() for ln in ax.lines] == list(plotting.OKABE_ITO[:2])


def test_a_sweep_without_that_series_says_what_it_has(sweep):
    with pytest.raises(ValueError, match=r"series: no series 'rent'; there are 'efficiency', "
                                         r"'stock'$"):
        plotting.bands(sweep, "rent")
    with pytest.raises(ValueError, match=r"by: no by 'n'; there are 'fine', 'growth'"):
        plotting.bands(sweep, "stock", by="n")
    plain = run_sweep("cpr-v1", Design.grid(fine=[0.0]), replicates=2, rounds=4, rng=1,
                      fixed={"n": 6}, progress=False)
    with pytest.raises(ValueError, match=r"the sweep stored none \(run it with "
                                         r"run_sweep\(\.\.\., series=True\)\)"):
        plotting.bands(plain, "stock")


def png_dpi(path):
    from PIL import Image
    with Image.open(path) as im:
        return im.info.get("dpi"), im.size


def test_figures_are_saved_as_png_at_300_dpi_with_a_vector_copy(run, tmp_path):
    fig = plotting.bands(run, "stock", path=tmp_path / "stock.png")
    dpi, size = png_dpi(tmp_path / "stock.png")
    assert dpi == pytest.approx((300, 300), abs=0.5)
    w, h = fig.get_size_inches()
    assert size == (round(w * 300), round(h * 300))
    assert (tmp_path / "stock.pdf").read_bytes()[:4] == b"%PDF"
    # a vector path gets its PNG; a bare name gets both; vector=None the PNG only
    written = plotting.save(fig, tmp_path / "v.svg")
    assert written == [tmp_path / "v.png", tmp_path / "v.svg"]
    assert b"<svg" in (tmp_path / "v.svg").read_bytes()[:400]
    assert png_dpi(tmp_path / "v.png")[0] == pytest.approx((300, 300), abs=0.5)
    assert plotting.save(fig, tmp_path / "bare") == [tmp_path / "bare.png",
                                                     tmp_path / "bare.pdf"]
    assert plotting.save(fig, tmp_path / "only.png", vector=None) == [tmp_path / "only.png"]
    assert not (tmp_path / "only.pdf").exists()
    with pytest.raises(ValueError, match="vector must be 'pdf', 'svg' or None"):
        plotting.save(fig, tmp_path / "x.png", vector="eps")
    with pytest.raises(ValueError, match="dpi must be a positive integer"):
        plotting.save(fig, tmp_path / "x.png", dpi=0)
    with pytest.raises(TypeError, match="path must be a file path"):
        plotting.save(fig, 3)


def test_every_figure_uses_the_one_style(run):
    import matplotlib as mpl
    import pandas as pd
    before = mpl.rcParams["figure.constrained_layout.use"], mpl.rcParams["savefig.dpi"]
    summ = pd.DataFrame({"a": [0.0, 1.0, 0.0, 1.0], "b": [0.0, 0.0, 1.0, 1.0], "n": 4,
                         "p_avoid_mean": [0.1, 0.5, 0.6, 0.9],
                         "efficiency_mean": [0.2, 0.4, 0.5, 0.7]})
    gov = pd.DataFrame({"governance": ["self"] * 2, "pressure": [0.0, 1.0],
                        "horizon": [25] * 2, "mean": [0.9, 0.5], "low": [0.8, 0.4],
                        "high": [1.0, 0.6], "n": [10, 10]})
    figures = [plotting.bands(run, "stock"), plotting.trajectories(run, "rent"),
               plotting.tragedy_map(summ, "a", "b"), plotting.governance_plot(gov)]
    for fig in figures:
        assert type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"
        for ax in fig.axes:
            if ax.get_label() == "<colorbar>":
                continue
            assert ax.get_xlabel() or fig._supxlabel is not None
    assert figures[0].axes[0].get_ylabel() == "stock after regeneration (resource units)"
    assert figures[1].axes[0].get_ylabel() == "group rent (payoff units a round)"
    assert figures[2].axes[0].collections[0].get_cmap().name == "cividis"
    # the style is set for the figure only, not left behind
    assert (mpl.rcParams["figure.constrained_layout.use"], mpl.rcParams["savefig.dpi"]) \
        == before
    with plotting.style():
        assert mpl.rcParams["savefig.dpi"] == 300
        assert mpl.rcParams["pdf.fonttype"] == 42


def test_plotting_does_not_import_matplotlib_until_a_figure_is_drawn():
    import subprocess
    import sys
    code = ("import sys, commons, commons.plotting; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
    assert commons.plotting.bands is plotting.bands
