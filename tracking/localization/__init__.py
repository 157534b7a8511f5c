"""Localization core: reads in, positions out. Pure numpy + shapely; never imports Django.

    window  -> ReadWindow (arrays of one window's reads)
    models  -> PathLossModel (BLE RSSI), RangeModel (UWB), fit_path_loss, fit_range_bias, fit_read_noise
    radiomap-> ResidualMap, fit_residual_map (RSSI corrections learned from labelled data)
    multilateration -> locate / multilaterate / gauss_newton (batched, robust), Method
    kalman  -> predict / update / iterated_update / gate (textbook) beside cv_predict / position_update /
               iterated_position_update (fast forms, same estimates), fit_white_acceleration, ConstantVelocity2D
    smoother-> rts_smooth (fixed-lag RTS), LagBuffer (filter history per tag)
    tracker -> TagTracker (state between windows; step() real-time, smoothed() lag_s late, forget()), TrackerConfig,
               Fixes; ekf_heard (update over the receivers heard) and ekf_dense (the textbook k x k reference)
    floormap-> FloorMap (clamp, zone_at, constrain_move), Door, choose_floor
    zones   -> ZoneHysteresis (margin + dwell)
    rfid    -> zone_presence, PortalDetector, phase_range_change_m
"""

from .floormap import Door, FloorMap, choose_floor
from .kalman import ConstantVelocity2D, fit_white_acceleration
from .models import PathLossModel, RangeModel, fit_path_loss, fit_range_bias, fit_read_noise
from .multilateration import Method, locate, multilaterate
from .radiomap import ResidualMap, fit_residual_map
from .rfid import Crossing, PortalDetector, phase_range_change_m, zone_presence
from .smoother import LagBuffer, rts_smooth
from .tracker import Fixes, TagTracker, TrackerConfig
from .window import ReadWindow
from .zones import ZoneChanges, ZoneHysteresis

__all__ = [
    "ConstantVelocity2D", "Crossing", "Door", "Fixes", "FloorMap", "LagBuffer", "Method", "PathLossModel",
    "PortalDetector", "RangeModel", "ReadWindow", "ResidualMap", "TagTracker", "TrackerConfig", "ZoneChanges",
    "ZoneHysteresis", "choose_floor", "fit_path_loss", "fit_range_bias", "fit_read_noise", "fit_residual_map",
    "fit_white_acceleration", "locate", "multilaterate", "phase_range_change_m", "rts_smooth", "zone_presence",
]
