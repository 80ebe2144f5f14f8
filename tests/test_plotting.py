"""The figures: the tragedy map (equal cells, colour-blind-safe maps, intervals and n in each
cell, efficiency beside it, derived curves, vector copies) and the governance plot."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

pytest.importorskip("matplotlib")

from commons import plotting
from commons.plotting import grid_position

XS = [0.0, 0.25, 0.5, 1.0, 3.0]  # unevenly spaced
YS = [0.0, 0.1, 0.5]


def summary(missing=()):
    rows = []
    for i, x in enumerate(XS):
        for j, y in enumerate(YS):
            if (i, j) in missing:
                continue
            p = min(1.0, 0.2 * i + 0.3 * j)
            rows.append({"sanction": x, "communication": y, "n": 20, "p_avoid_mean": p,
                         "p_avoid_low": max(0.0, p - 0.2), "p_avoid_high": min(1.0, p + 0.2),
                         "efficiency_mean": 0.5 + 0.1 * i, "efficiency_low": 0.45 + 0.1 * i,
                         "efficiency_high": 0.55 + 0.1 * i})
    return pd.DataFrame(rows)


def test_uneven_grids_are_drawn_as_equal_cells_labelled_with_their_values(tmp_path):
    png = tmp_path / "map.png"
    fig = plotting.tragedy_map(summary(), "sanction", "communication", path=png,
                               labels={"sanction": "sanction s (value per unit)"},
                               boundaries=[("derived", [1.5, 0.75, -0.5], YS)])
    p_ax, e_ax = fig.axes[0], fig.axes[2]  # the two panels (colour bars between)
    mesh = p_ax.collections[0]
    edges = mesh.get_coordinates()[0, :, 0]
    np.testing.assert_allclose(edges, np.arange(len(XS) + 1) - 0.5)  # equal widths
    assert [t.get_text() for t in p_ax.get_xticklabels()] == ["0", "0.25", "0.5", "1", "3"]
    assert [t.get_text() for t in p_ax.get_yticklabels()] == ["0", "0.1", "0.5"]
    assert p_ax.get_xlabel() == "sanction s (value per unit)"
    assert mesh.get_cmap().name == "cividis"
    assert e_ax.collections[0].get_cmap().name == "viridis"
    texts = [t.get_text() for t in p_ax.texts]
    assert len(texts) == len(XS) * len(YS)
    assert all("n=20" in t and "–" in t for t in texts)  # estimate, Wilson interval, n
    assert any(t.startswith("0.20\n0.00–0.40") for t in texts)
    assert all("±" in t.get_text() for t in e_ax.texts)
    assert fig.get_layout_engine() is not None  # constrained layout
    assert png.stat().st_size > 10_000
    assert png.with_suffix(".pdf").read_bytes()[:4] == b"%PDF"
    # the derived curve: 1.5 lies halfway between the cells of 1 and 3 (index 3.25), 0.75
    # halfway between 0.5 and 1; -0.5 is beyond the grid, marked by an arrow at the edge
    line = next(ln for ln in p_ax.lines if ln.get_label() == "derived")
    np.testing.assert_allclose(line.get_xdata(), [3.25, 2.5, -2.0])
    assert any(ln.get_marker() == "<" for ln in p_ax.lines)
    legend = fig.legends[0]
    labels = [t.get_text() for t in legend.get_texts()]
    assert "derived" in labels
    assert any(lab.startswith("simulated boundary") for lab in labels)


def test_one_axes_takes_one_panel_and_missing_cells_say_so(tmp_path):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(layout="constrained")
    out = plotting.tragedy_map(summary(missing={(1, 1)}), "sanction", "communication", ax=ax,
                               predictions=[("theory", "x", 0.75)], note="a note",
                               path=tmp_path / "m.svg")
    assert out is fig
    assert len(fig.axes) == 2  # the panel and its colour bar
    assert "no runs" in [t.get_text() for t in ax.texts]
    assert ax.get_legend().get_title().get_text() == "a note"
    assert (tmp_path / "m.svg").exists()
    assert (tmp_path / "m.png").exists()  # a vector path gets its PNG
    assert not (tmp_path / "m.pdf").exists()


def test_scattered_designs_are_contoured():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.random(40), "b": rng.random(40),
                       "p_avoid_mean": rng.random(40), "efficiency_mean": rng.random(40)})
    df = pd.concat([df, df.iloc[:1]])  # a repeated point: not a grid
    fig = plotting.tragedy_map(df, "a", "b", boundaries=[("curve", [0.2, 0.4], [0.1, 0.9])])
    assert fig.axes[0].get_xlabel() == "a"
    line = next(ln for ln in fig.axes[0].lines if ln.get_label() == "curve")
    np.testing.assert_allclose(line.get_xdata(), [0.2, 0.4])  # data coordinates


@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=8, unique=True),
       st.floats(-10, 10, allow_nan=False), st.floats(-10, 10, allow_nan=False))
@example(values=[0.0, 5e-324], u=-1.0, w=1.0)  # an end step of one subnormal: -inf and +inf
def test_values_map_to_cell_positions_monotonically(values, u, w):
    vals = np.sort(np.asarray(values))
    np.testing.assert_allclose(grid_position(vals, vals), np.arange(vals.size), atol=1e-9)
    iu, iw = grid_position(u, vals), grid_position(w, vals)
    if u < w:
        assert iu <= iw + 1e-9
    # inside the grid, linear between the two cells around the value
    k = int(np.clip(np.searchsorted(vals, u) - 1, 0, vals.size - 2))
    if vals[0] <= u <= vals[-1]:
        frac = (u - vals[k]) / (vals[k + 1] - vals[k])
        assert float(iu) == pytest.approx(k + frac, abs=1e-9)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"x": "nope"}, "summary has no column 'nope'"),
    ({"predictions": [("t", "z", 1.0)]}, r"predictions\[0\] must be \(label, 'x' or 'y'"),
    ({"boundaries": [("t", 1.0)]}, r"boundaries\[0\] must be \(label, xs, ys\)"),
    ({"vector": "eps", "path": "x.png"}, "vector must be 'pdf', 'svg' or None"),
    ({"summary": "empty"}, "summary has no rows"),
    ({"efficiency": "wealth"}, "efficiency: no efficiency 'wealth'; there are 'efficiency', "
                               "'p_avoid'"),
])
def test_bad_map_input_names_the_argument(kwargs, match, tmp_path):
    kw = {"x": "sanction", "y": "communication", **kwargs}
    if "path" in kw:
        kw["path"] = tmp_path / kw["path"]
    table = summary().iloc[:0] if kw.pop("summary", None) == "empty" else summary()
    with pytest.raises(ValueError, match=match):
        plotting.tragedy_map(table, **kw)


def test_governance_plot_has_a_panel_per_horizon_with_intervals(tmp_path):
    rows = [{"governance": g, "pressure": p, "horizon": h, "mean": m, "low": m - 0.1,
             "high": min(1.0, m + 0.1), "n": 40}
            for g, shift in (("self", 0), ("central", 2)) for h in (25, 100)
            for p in range(5) for m in [max(0.0, 1 - 0.2 * max(0, p - shift) * h / 50)]]
    frame = pd.DataFrame(rows)
    frame.attrs["metric"] = "p_avoid"
    fig = plotting.governance_plot(frame, path=tmp_path / "g.png")
    axes = fig.axes
    assert [a.get_title() for a in axes] == ["horizon 25 years", "horizon 100 years"]
    assert axes[0].get_ylabel().startswith("P(tragedy avoided)")
    assert "points a year" in axes[0].get_xlabel()
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == [
        "self (n = 40 a point)", "central (n = 40 a point)"]
    assert len(axes[0].collections) == 2  # an interval band per governance
    assert (tmp_path / "g.pdf").exists()
    with pytest.raises(ValueError, match=r"frame lacks the columns \['n'\]"):
        plotting.governance_plot(frame.drop(columns="n"))
