"""Replay recorded real data through the localization engine and compare with a naive baseline.

    python -m bench.bench_accuracy

Data: $HOSPITAL_IOT_DATA (default <repo>/../shared/data): ble_danis (BLE RSSI, 5 tracks) and
uwb_labyrinth (UWB ranges). Calibration never sees the ground truth of what it is scored on:
BLE is calibrated leave-one-track-out, UWB anchor biases two-fold (each half from the other half).
Prints a table and writes a CDF plot to bench/out/accuracy_cdf.png.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tracking.localization.models import PathLossModel, RangeModel, fit_path_loss, fit_range_bias
from tracking.localization.multilateration import Method
from tracking.localization.radiomap import fit_residual_map
from tracking.localization.tracker import TagTracker, TrackerConfig
from tracking.localization.window import ReadWindow

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HOSPITAL_IOT_DATA", REPO / ".." / "shared" / "data"))
OUT = REPO / "bench" / "out"
Float = np.ndarray

# Settings shared by every BLE track (never chosen per track).
BLE_TAG_HEIGHT_M = 1.8  # beacon carried at chest height
BLE_WINDOW_S = 1.0
BLE_PRIOR_READS = 30.0  # ridge weight pulling a receiver's fit towards the global one
MAP_CELL_M, MAP_PRIOR_READS = 3.0, 20.0
UWB_WINDOW_S = 0.1
AREA_M = (0.0, 0.0, 20.66, 17.64)  # cnf/tetam.par limits


@dataclass
class Track:
    name: str
    t_s: Float  # (N,)
    receiver: Float  # (N,) int
    value: Float  # (N,) rssi_dbm or range_m
    truth_xy_m: Float  # (N, 2) true position at each read


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
            receiver=np.array([index[r[1]] for r in rows]),
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
    return anchors, Track("labyrinth", t, np.array([ids.index(r[6]) for r in rows]), np.array([float(r[2]) for r in rows]), truth)


def windows(track: Track, width_s: float) -> list[np.ndarray]:
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
    kept inside the area (plain Gauss-Newton, no weights, no robustness, no heights)."""
    p = anchors_xy.mean(0)
    for _ in range(20):
        d = np.maximum(np.linalg.norm(p - anchors_xy, axis=1), 1e-6)
        J = (p - anchors_xy) / d[:, None]
        p = np.clip(p + np.linalg.lstsq(J, ranges - d, rcond=None)[0], AREA_M[:2], AREA_M[2:])
    return np.asarray(p)


def labelled(anchors: Float, tracks: list[Track]) -> tuple[Float, Float, Float, Float]:
    t = np.concatenate([tr.receiver for tr in tracks]).astype(np.int64)
    xy = np.concatenate([tr.truth_xy_m for tr in tracks])
    v = np.concatenate([tr.value for tr in tracks])
    d = np.linalg.norm(np.column_stack([xy, np.full(len(xy), BLE_TAG_HEIGHT_M)]) - anchors[t], axis=1)
    return t, xy, v, d


def ble_baseline(anchors: Float, train: list[Track], track: Track) -> tuple[Float, Float]:
    """Per-second mean RSSI, one path-loss model for all receivers, linear least squares."""
    rx, _, rssi, d = labelled(anchors, train)
    a, s = np.linalg.lstsq(np.column_stack([np.ones_like(d), np.log10(d)]), rssi, rcond=None)[0]
    est, truth = [], []
    for idx in windows(track, BLE_WINDOW_S):
        seen = np.unique(track.receiver[idx])
        if len(seen) < 3:
            continue
        mean = np.array([track.value[idx][track.receiver[idx] == k].mean() for k in seen])
        est.append(range_least_squares(anchors[seen, :2], 10 ** ((mean - a) / s)))
        truth.append(track.truth_xy_m[idx].mean(0))
    return np.array(est), np.array(truth)


def ble_model(anchors: Float, train: list[Track]) -> PathLossModel:
    """Per-receiver path loss plus a residual radio map, fitted on the training tracks only."""
    rx, xy, rssi, d = labelled(anchors, train)
    model = fit_path_loss(distance_m=d, rssi_dbm=rssi, receiver=rx, anchors_m=anchors,
                          tag_height_m=BLE_TAG_HEIGHT_M, prior_reads=BLE_PRIOR_READS)
    z_hat, _ = model.predict(xy)
    residual = rssi - z_hat[np.arange(len(rx)), rx]
    rmap = fit_residual_map(xy_m=xy, receiver=rx, residual_db=residual, n_receivers=len(anchors),
                            extent_m=AREA_M, cell_m=MAP_CELL_M, prior_reads=MAP_PRIOR_READS)
    sigma = np.full(len(anchors), float(np.std(residual - rmap.lookup_db(xy)[np.arange(len(rx)), rx])))
    return PathLossModel(anchors_m=anchors, rssi_1m_dbm=model.rssi_1m_dbm, offset_db=model.offset_db,
                         exponent=model.exponent, sigma=sigma, tag_height_m=BLE_TAG_HEIGHT_M, residual_map=rmap)


def replay(tracker: TagTracker, track: Track, width_s: float, tag: str) -> tuple[Float, Float]:
    """Feed the track window by window; estimate after each window vs mean truth of that window."""
    est, truth = [], []
    for idx in windows(track, width_s):
        fixes = tracker.step(ReadWindow(np.full(len(idx), tag), track.receiver[idx].astype(np.int64),
                                        track.t_s[idx], track.value[idx]))
        if len(fixes.tag_id) and fixes.method[0] != Method.NONE:
            est.append(fixes.xy_m[0])
            truth.append(track.truth_xy_m[idx].mean(0))
    return np.array(est), np.array(truth)


def subset(track: Track, keep: np.ndarray, name: str) -> Track:
    return Track(name, track.t_s[keep], track.receiver[keep], track.value[keep], track.truth_xy_m[keep])


def run_ble() -> list[tuple[str, Float, Float]]:
    anchors, tracks = load_ble()
    # BLE shadowing is broad and spatially structured: gate only gross outliers (5 sigma)
    config = TrackerConfig(q_m2ps3=0.03, gate_sigma=5.0, bounds_m=AREA_M)
    rows = []
    for track in tracks:
        train = [t for t in tracks if t is not track]  # leave-one-track-out
        b_est, b_true = ble_baseline(anchors, train, track)
        e_est, e_true = replay(TagTracker(ble_model(anchors, train), config), track, BLE_WINDOW_S, "beacon1")
        rows.append((f"ble/{track.name}", err(b_est, b_true), err(e_est, e_true)))
    return rows


def run_uwb() -> list[tuple[str, Float, Float]]:
    anchors, track = load_uwb()
    half = track.t_s < np.median(track.t_s)
    rows = []
    for name, test in (("uwb/labyrinth first half", half), ("uwb/labyrinth second half", ~half)):
        calib = subset(track, ~test, "calib")  # biases from the other half only
        true_range = np.linalg.norm(calib.truth_xy_m - anchors[calib.receiver], axis=1)
        bias, sigma = fit_range_bias(range_m=calib.value, true_range_m=true_range,
                                     receiver=calib.receiver.astype(np.int64), n_anchors=len(anchors))
        model = RangeModel(anchors_m=anchors, bias_m=bias, sigma=sigma)
        part = subset(track, test, name)
        b = [(trilaterate(anchors[part.receiver[i - 3:i + 1]], part.value[i - 3:i + 1]), part.truth_xy_m[i])
             for i in range(3, len(part.t_s)) if len(set(part.receiver[i - 3:i + 1])) == 4]
        e_est, e_true = replay(TagTracker(model, TrackerConfig(q_m2ps3=0.1)), part, UWB_WINDOW_S, "robot")
        rows.append((name, err(np.array([p for p, _ in b]), np.array([q for _, q in b])), err(e_est, e_true)))
    return rows


def err(est: Float, truth: Float) -> Float:
    return np.asarray(np.linalg.norm(est - truth, axis=1))


def table(rows: list[tuple[str, Float, Float]]) -> str:
    head = f"{'track':<34}{'n':>5} | {'baseline med':>12}{'p90':>7}{'max':>7} | {'engine med':>10}{'p90':>7}{'max':>7} | {'med ratio':>9}"
    lines = [head, "-" * len(head)]
    for group in ("ble", "uwb"):
        members = [r for r in rows if r[0].startswith(group)]
        overall = (f"{group.upper()} overall", np.concatenate([r[1] for r in members]), np.concatenate([r[2] for r in members]))
        for name, b, e in [*members, overall]:
            q = [np.median(b), np.percentile(b, 90), b.max(), np.median(e), np.percentile(e, 90), e.max()]
            lines.append(f"{name:<34}{len(e):>5} | {q[0]:>12.2f}{q[1]:>7.2f}{q[2]:>7.2f} | {q[3]:>10.2f}{q[4]:>7.2f}{q[5]:>7.2f} | {q[3] / q[0]:>9.2f}")
        lines.append("-" * len(head))
    return "\n".join(lines)


def plot(rows: list[tuple[str, Float, Float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, group in zip(axes, ("ble", "uwb"), strict=True):
        for label, col, style in (("baseline", 1, "--"), ("engine", 2, "-")):
            e = np.sort(np.concatenate([r[col] for r in rows if r[0].startswith(group)]))
            ax.plot(e, np.arange(1, len(e) + 1) / len(e), style, label=f"{label} (median {np.median(e):.2f} m)")
        ax.set(title=f"{group.upper()} position error CDF", xlabel="error (m)", ylabel="fraction of fixes")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main() -> None:
    started = time.perf_counter()
    rows = run_ble() + run_uwb()
    print("Position error in metres: naive baseline vs engine (same run).")
    print("BLE: path loss + residual radio map calibrated leave-one-track-out (a track never calibrates its")
    print("     own evaluation); same settings for every track; 1 s windows; truth = mean true position of the window.")
    print("     baseline: per-second mean RSSI, one path-loss model (fitted on the other tracks), nonlinear least squares\n     (Gauss-Newton on ranges, kept inside the area).")
    print("UWB: per-anchor bias two-fold (each half scored with biases from the other half's ground truth);")
    print("     baseline: linear least squares on each 4 consecutive raw ranges; engine: tracker, one range per update.")
    print(table(rows))
    out = OUT / "accuracy_cdf.png"
    plot(rows, out)
    print(f"CDF plot: {out.relative_to(REPO)}   ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
