"""Replay recorded real data through the localization engine and compare with a naive baseline.

    python -m bench.bench_accuracy

Data: $HOSPITAL_IOT_DATA (default <repo>/../shared/data): ble_danis (BLE RSSI, 5 tracks) and
uwb_labyrinth (UWB ranges). Calibration never sees the ground truth of what it is scored on:
BLE is calibrated leave-one-track-out, UWB anchor biases two-fold (each half from the other half).
The engine is scored twice: its real-time filter and its fixed-lag smoother (positions `lag` late).
Prints a table and writes a CDF plot to bench/out/accuracy_cdf.png.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from tracking.localization._arrays import Bool, Float, Int
from tracking.localization.kalman import fit_white_acceleration
from tracking.localization.models import PathLossModel, RangeModel, fit_path_loss, fit_range_bias, fit_read_noise
from tracking.localization.multilateration import Method
from tracking.localization.radiomap import fit_residual_map
from tracking.localization.tracker import Fixes, TagTracker, TrackerConfig
from tracking.localization.window import ReadWindow

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HOSPITAL_IOT_DATA", REPO / ".." / "shared" / "data"))
OUT = REPO / "bench" / "out"

# Settings shared by every BLE track (never chosen per track).
BLE_TAG_HEIGHT_M = 1.8  # beacon carried at chest height
BLE_WINDOW_S = 1.0
BLE_PRIOR_READS = 30.0  # ridge weight pulling a receiver's fit towards the global one
MAP_CELL_M, MAP_PRIOR_READS = 3.0, 5.0  # prior: lowest leave-one-track-out RSSI error (dB), not position error
BLE_LAG_S = 2.0  # smoothed BLE positions are shown this late
BASELINE_RECEIVERS = 3  # trilateration: the three strongest receivers of the second
UWB_WINDOW_S = 0.1
UWB_LAG_S = 1.0
AREA_M = (0.0, 0.0, 20.66, 17.64)  # cnf/tetam.par limits


@dataclass
class Track:
    name: str
    t_s: Float  # (N,)
    receiver: Int  # (N,)
    value: Float  # (N,) rssi_dbm or range_m
    truth_xy_m: Float  # (N, 2) true position at each read

    def truth_at(self, t_s: Float) -> Float:
        """True position at times t_s (n,), interpolated between labelled reads.   returns (n, 2)"""
        return np.column_stack([np.interp(t_s, self.t_s, self.truth_xy_m[:, i]) for i in (0, 1)])

    def subset(self, keep: Bool, name: str) -> Track:
        return Track(name, self.t_s[keep], self.receiver[keep], self.value[keep], self.truth_xy_m[keep])


@dataclass
class Scored:
    """Errors (m) of one track: baseline, real-time engine, smoothed engine."""

    name: str
    baseline: Float
    realtime: Float
    smoothed: Float


def load_ble() -> tuple[Float, list[Track]]:
    root = DATA / "ble_danis"
    line = next(s for s in (root / "cnf" / "tetam.dev").read_text().splitlines() if s.startswith("Dongles:"))
    dongles = json.loads(line[len("Dongles:"):])
    macs = sorted(dongles)
    anchors = np.array([dongles[m][0] for m in macs], dtype=float)
    index = {m: i for i, m in enumerate(macs)}
    tracks = []
    for path in sorted((root / "trk").glob("*_all_sensors.mbd")):
        rows = [r.split(",") for r in path.read_text().split()]
        tracks.append(Track(
            name=path.name.removesuffix("_all_sensors.mbd"),
            t_s=np.array([float(r[0]) for r in rows]),
            receiver=np.array([index[r[1]] for r in rows], dtype=np.int64),
            value=np.array([float(r[3]) for r in rows]),
            truth_xy_m=np.array([[float(r[4]), float(r[5])] for r in rows]),
        ))
    return anchors, tracks


def load_uwb() -> tuple[Float, Track]:
    root = DATA / "uwb_labyrinth"
    rows = [s.split() for s in (root / "Indoor_UWB_Input.txt").read_text().splitlines() if s.startswith("range2")]
    gt = [s.split() for s in (root / "Indoor_UWB_GT.txt").read_text().splitlines() if s.startswith("point2")]
    ids = sorted({r[6] for r in rows})
    anchors = np.array([next([float(r[4]), float(r[5])] for r in rows if r[6] == a) for a in ids])
    t_gt = np.array([float(g[1]) for g in gt])
    xy_gt = np.array([[float(g[2]), float(g[3])] for g in gt])
    t = np.array([float(r[1]) for r in rows])
    truth = np.column_stack([np.interp(t, t_gt, xy_gt[:, 0]), np.interp(t, t_gt, xy_gt[:, 1])])
    receiver = np.array([ids.index(r[6]) for r in rows], dtype=np.int64)
    return anchors, Track("labyrinth", t, receiver, np.array([float(r[2]) for r in rows]), truth)


def windows(track: Track, width_s: float) -> list[Int]:
    """Read indices per window of width_s."""
    k = ((track.t_s - track.t_s[0]) // width_s).astype(int)
    return [i for i in np.split(np.arange(len(k)), np.flatnonzero(np.diff(k)) + 1) if len(i)]


def trilaterate(anchors_xy: Float, ranges: Float) -> Float:
    """The naive linear least squares of STYLE.md: subtract circle 0 from the others."""
    A = 2 * (anchors_xy[1:] - anchors_xy[0])
    b = (anchors_xy[1:] ** 2).sum(1) - (anchors_xy[0] ** 2).sum() - ranges[1:] ** 2 + ranges[0] ** 2
    return np.asarray(np.linalg.lstsq(A, b, rcond=None)[0])


def range_least_squares(anchors_xy: Float, ranges: Float) -> Float:
    """Unweighted nonlinear least squares min sum (|p - a_k| - r_k)^2 from the anchors' centroid,
    kept inside the area (plain Gauss-Newton, no weights, no robustness)."""
    p = anchors_xy.mean(0)
    for _ in range(20):
        d = np.maximum(np.linalg.norm(p - anchors_xy, axis=1), 1e-6)
        J = (p - anchors_xy) / d[:, None]
        p = np.clip(p + np.linalg.lstsq(J, ranges - d, rcond=None)[0], AREA_M[:2], AREA_M[2:])
    return np.asarray(p)


def labelled(anchors: Float, tracks: list[Track]) -> tuple[Int, Float, Float, Float]:
    """Receiver, true xy, rssi and 3-D distance of every read of `tracks`."""
    rx = np.concatenate([tr.receiver for tr in tracks])
    xy = np.concatenate([tr.truth_xy_m for tr in tracks])
    d = np.linalg.norm(np.column_stack([xy, np.full(len(xy), BLE_TAG_HEIGHT_M)]) - anchors[rx], axis=1)
    return rx, xy, np.concatenate([tr.value for tr in tracks]), d


def global_path_loss(anchors: Float, tracks: list[Track]) -> tuple[float, float]:
    """rssi = A + S log10(d_3d), one least-squares fit for all receivers."""
    _, _, rssi, d = labelled(anchors, tracks)
    A, S = np.linalg.lstsq(np.column_stack([np.ones_like(d), np.log10(d)]), rssi, rcond=None)[0]
    return float(A), float(S)


def ble_baseline(anchors: Float, fit: tuple[float, float], track: Track, n_strongest: int | None) -> Float:
    """Per-second mean RSSI -> ranges by one global model -> trilateration from the n strongest receivers
    (all heard if None): 3-D ranges to horizontal ones with the receiver heights, Gauss-Newton in the area."""
    A, S = fit
    errors = []
    for idx in windows(track, BLE_WINDOW_S):
        seen = np.unique(track.receiver[idx])
        if len(seen) < 3:
            continue
        mean = np.array([track.value[idx][track.receiver[idx] == k].mean() for k in seen])
        use = np.argsort(-mean)[:n_strongest]
        r3 = 10 ** ((mean[use] - A) / S)
        r2 = np.sqrt(np.maximum(r3**2 - (anchors[seen[use], 2] - BLE_TAG_HEIGHT_M) ** 2, 0.0))
        p = range_least_squares(anchors[seen[use], :2], r2)
        errors.append(np.linalg.norm(p - track.truth_at(track.t_s[idx].mean(keepdims=True))[0]))
    return np.array(errors)


def cells(tracks: list[Track]) -> Int:
    """Id of the (track, window, receiver) cell of every read of `tracks` (for fit_read_noise)."""
    ids = []
    for i, tr in enumerate(tracks):
        window = ((tr.t_s - tr.t_s[0]) // BLE_WINDOW_S).astype(np.int64)
        ids.append((i * 100_000 + window) * 100 + tr.receiver)
    return np.concatenate(ids)


def ble_model(anchors: Float, train: list[Track]) -> PathLossModel:
    """Per-receiver path loss, a residual radio map and the noise split, fitted on the training tracks only."""
    rx, xy, rssi, d = labelled(anchors, train)
    model = fit_path_loss(distance_m=d, rssi_dbm=rssi, receiver=rx, anchors_m=anchors,
                          tag_height_m=BLE_TAG_HEIGHT_M, prior_reads=BLE_PRIOR_READS)
    z_hat, _ = model.predict(xy)
    residual = rssi - z_hat[np.arange(len(rx)), rx]
    rmap = fit_residual_map(xy_m=xy, receiver=rx, residual_db=residual, n_receivers=len(anchors),
                            extent_m=AREA_M, cell_m=MAP_CELL_M, prior_reads=MAP_PRIOR_READS)
    read_db, window_db = fit_read_noise(residual=residual - rmap.lookup_db(xy)[np.arange(len(rx)), rx],
                                        cell=cells(train))
    return replace(model, sigma=np.full(len(anchors), read_db), window_sigma_db=window_db, residual_map=rmap)


def replay(tracker: TagTracker, track: Track, width_s: float) -> tuple[Float, Float]:
    """Feed the track window by window; errors of the real-time fixes and of the smoothed ones."""
    live: list[Fixes] = []
    late: list[Fixes] = []
    for idx in windows(track, width_s):
        live.append(tracker.step(ReadWindow(np.full(len(idx), "tag"), track.receiver[idx], track.t_s[idx],
                                            track.value[idx])))
        late.append(tracker.smoothed(live[-1].tag_id))
    return fix_errors(track, live), fix_errors(track, late)


def fix_errors(track: Track, fixes: list[Fixes]) -> Float:
    """Distance of every fix from the true position at the time the fix refers to."""
    t = np.concatenate([f.t_s for f in fixes])
    xy = np.concatenate([f.xy_m for f in fixes])
    shown = np.concatenate([f.method for f in fixes]) != Method.NONE
    return np.asarray(np.linalg.norm(xy[shown] - track.truth_at(t[shown]), axis=1))


def ble_config(train: list[Track]) -> TrackerConfig:
    """Tracker settings; q is the white-acceleration density of the training tracks' true paths."""
    q = fit_white_acceleration([tr.t_s for tr in train], [tr.truth_xy_m for tr in train], dt_s=BLE_WINDOW_S)
    return TrackerConfig(q_m2ps3=q, gate_sigma=5.0, bounds_m=AREA_M, smoother_lag_s=BLE_LAG_S)


def run_ble() -> tuple[list[Scored], dict[str, float]]:
    anchors, tracks = load_ble()
    fit_all = global_path_loss(anchors, tracks)  # the baseline's one model, fitted on all data
    rows: list[Scored] = []
    variants: dict[str, list[Float]] = {"all heard": [], "4 strongest": []}
    for track in tracks:
        train = [t for t in tracks if t is not track]  # leave-one-track-out
        live, late = replay(TagTracker(ble_model(anchors, train), ble_config(train)), track, BLE_WINDOW_S)
        rows.append(Scored(f"ble/{track.name}", ble_baseline(anchors, fit_all, track, BASELINE_RECEIVERS),
                           live, late))
        variants["all heard"].append(ble_baseline(anchors, fit_all, track, None))
        variants["4 strongest"].append(ble_baseline(anchors, fit_all, track, 4))
    notes = {name: float(np.median(np.concatenate(e))) for name, e in variants.items()}
    return rows, {"A": fit_all[0], "S": fit_all[1], **notes}


def uwb_baseline(anchors: Float, part: Track) -> Float:
    """Linear least squares on each 4 consecutive raw ranges, scored at the last one's time."""
    errors = [np.linalg.norm(trilaterate(anchors[part.receiver[i - 3:i + 1]], part.value[i - 3:i + 1])
                             - part.truth_xy_m[i])
              for i in range(3, len(part.t_s)) if len(set(part.receiver[i - 3:i + 1])) == 4]
    return np.array(errors)


def uwb_halves(track: Track) -> Iterator[tuple[str, Track, Track]]:
    half = track.t_s < np.median(track.t_s)
    for name, test in (("first half", half), ("second half", ~half)):
        yield name, track.subset(~test, "calib"), track.subset(test, name)


def run_uwb() -> list[Scored]:
    anchors, track = load_uwb()
    rows = []
    for name, calib, part in uwb_halves(track):  # biases, noise and q from the other half only
        true_range = np.linalg.norm(calib.truth_xy_m - anchors[calib.receiver], axis=1)
        bias, sigma = fit_range_bias(range_m=calib.value, true_range_m=true_range, receiver=calib.receiver,
                                     n_anchors=len(anchors))
        q = fit_white_acceleration([calib.t_s], [calib.truth_xy_m], dt_s=UWB_WINDOW_S)
        config = TrackerConfig(q_m2ps3=q, smoother_lag_s=UWB_LAG_S)
        live, late = replay(TagTracker(RangeModel(anchors_m=anchors, bias_m=bias, sigma=sigma), config), part,
                            UWB_WINDOW_S)
        rows.append(Scored(f"uwb/labyrinth {name}", uwb_baseline(anchors, part), live, late))
    return rows


def stats(e: Float) -> str:
    return f"{len(e):>5}{np.median(e):>6.2f}{np.percentile(e, 90):>6.2f}{e.max():>6.2f}"


def table(rows: list[Scored]) -> str:
    block = f"{'n':>5}{'med':>6}{'p90':>6}{'max':>6}"
    head = f"{'track':<31}|{block} |{block} |{block} | {'med ratio':>9}"
    over = f"{'':<31}|{'baseline':^23} |{'engine real-time':^23} |{'engine smoothed':^23} | {'rt':>4}{'sm':>5}"
    lines = [over, head, "-" * len(head)]
    for group in ("ble", "uwb"):
        members = [r for r in rows if r.name.startswith(group)]
        overall = Scored(f"{group.upper()} overall", *(np.concatenate([getattr(r, f) for r in members])
                                                       for f in ("baseline", "realtime", "smoothed")))
        for r in [*members, overall]:
            b = np.median(r.baseline)
            lines.append(f"{r.name:<31}|{stats(r.baseline)} |{stats(r.realtime)} |{stats(r.smoothed)} | "
                         f"{np.median(r.realtime) / b:>4.2f}{np.median(r.smoothed) / b:>5.2f}")
        lines.append("-" * len(head))
    return "\n".join(lines)


def plot(rows: list[Scored], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, group in zip(axes, ("ble", "uwb"), strict=True):
        for label, field, style in (("baseline", "baseline", "--"), ("engine real-time", "realtime", ":"),
                                    ("engine smoothed", "smoothed", "-")):
            e = np.sort(np.concatenate([getattr(r, field) for r in rows if r.name.startswith(group)]))
            ax.plot(e, np.arange(1, len(e) + 1) / len(e), style, label=f"{label} (median {np.median(e):.2f} m)")
        ax.set(title=f"{group.upper()} position error CDF", xlabel="error (m)", ylabel="fraction of fixes")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def header(notes: dict[str, float]) -> str:
    fit = f"RSSI = {notes['A']:.1f} {notes['S']:+.1f} log10(d_3d)"
    return f"""Position error in metres vs the true position at the time each fix refers to; same run.
BLE: 1 s windows; engine = per-receiver path loss + residual radio map + noise split + q, all calibrated
     leave-one-track-out (a track never calibrates its own evaluation); same settings for every track.
     baseline = per-second mean RSSI of each receiver -> range by ONE log-distance model fitted on all
     five tracks, {fit} -> trilateration from the {BASELINE_RECEIVERS} strongest receivers
     (unweighted Gauss-Newton on ranges, receiver heights, kept in the area). The same baseline with the
     4 strongest receivers: median {notes['4 strongest']:.2f} m; with all receivers heard: {notes['all heard']:.2f} m.
UWB: per-anchor bias, noise and q two-fold (each half scored with values from the other half's ground truth);
     baseline = linear least squares on each 4 consecutive raw ranges; engine: one range per update.
Smoothed = fixed-lag RTS smoother, positions shown late by BLE {BLE_LAG_S:.1f} s, UWB {UWB_LAG_S:.1f} s;
     real-time = the Kalman filter's fix at once. Ratio = engine median / baseline median."""


def main() -> None:
    started = time.perf_counter()
    ble_rows, notes = run_ble()
    rows = ble_rows + run_uwb()
    print(header(notes))
    print(table(rows))
    out = OUT / "accuracy_cdf.png"
    plot(rows, out)
    print(f"CDF plot: {out.relative_to(REPO)}   ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
