/**
 * The default configuration: asset types, their sensors (units, physical ranges) and
 * failure modes (sensor, direction, limit). Detector parameters and thresholds sit beside
 * them. A user file given with --config is validated and merged over this.
 *
 * Sensor names carry their unit as a suffix so a column or a dashboard needs no legend.
 */
export interface RawSensor {
  unit: string;
  /** Physical range [min, max]; a value outside is a data-quality finding, not an anomaly. */
  min: number;
  max: number;
  /** Expected sampling period in seconds; silence longer than a few periods is "stale". */
  samplePeriodSec?: number;
}

export interface RawFailureMode {
  /** Sensors whose trend toward the limit signals this mode (any one suffices). */
  sensors: string[];
  /** "rising" toward an upper limit or "falling" toward a lower one. */
  direction: 'rising' | 'falling';
  /** The limit in the sensors' unit at which the machine fails or must be stopped. */
  limit: number;
  /** Horizon of the failure probability, hours. */
  horizonHours: number;
  /** Probability at which a prediction is raised (default from detector settings). */
  threshold?: number;
  /**
   * Only values above this count as activity for this mode (water flow while filling,
   * vibration while spinning); idle values are ignored by the mode's tracker.
   */
  activeAbove?: number;
  /** Only values below this count as activity (e.g. a battery's resting voltage, not while charging). */
  activeBelow?: number;
  /**
   * A sensor of the same asset that drives this mode's sensors (ambient temperature, load),
   * at most one: the trackers then follow the value a healthy least-squares fit on it predicts
   * at its typical value, so the weather's or the load's cycle does not hide a degradation.
   */
  covariates?: string[];
  description: string;
}

export interface RawAssetType {
  description: string;
  sensors: Record<string, RawSensor>;
  failureModes: Record<string, RawFailureMode>;
}

export interface RawConfig {
  version: string;
  assetTypes: Record<string, RawAssetType>;
  /** Detector and predictor parameters (owned by the core; see config.ts). */
  detector?: Record<string, unknown>;
}

const tire = (): RawSensor => ({ unit: 'kPa', min: 0, max: 600, samplePeriodSec: 60 });

export const DEFAULT_RAW_CONFIG: RawConfig = {
  version: '2026-12-03.2',
  assetTypes: {
    passenger_ev: {
      description: 'Battery-electric passenger car',
      sensors: {
        battery_cell_temp_c: { unit: 'degC', min: -40, max: 100, samplePeriodSec: 60 },
        battery_soc_pct: { unit: '%', min: 0, max: 100, samplePeriodSec: 60 },
        pack_voltage_v: { unit: 'V', min: 0, max: 1000, samplePeriodSec: 60 },
        motor_temp_c: { unit: 'degC', min: -40, max: 220, samplePeriodSec: 60 },
        tire_pressure_fl_kpa: tire(),
        tire_pressure_fr_kpa: tire(),
        tire_pressure_rl_kpa: tire(),
        tire_pressure_rr_kpa: tire(),
      },
      failureModes: {
        battery_thermal_runaway: {
          sensors: ['battery_cell_temp_c'], direction: 'rising', limit: 60, horizonHours: 72, covariates: ['motor_temp_c'],
          description: 'Battery cell temperature rising toward the thermal cut-off',
        },
        tire_pressure_loss: {
          sensors: ['tire_pressure_fl_kpa', 'tire_pressure_fr_kpa', 'tire_pressure_rl_kpa', 'tire_pressure_rr_kpa'],
          direction: 'falling', limit: 160, horizonHours: 72,
          description: 'Tire pressure falling toward the minimum safe pressure (slow puncture)',
        },
        motor_overheating: {
          sensors: ['motor_temp_c'], direction: 'rising', limit: 150, horizonHours: 72,
          description: 'Drive motor temperature rising toward the derating limit (cooling failure)',
        },
      },
    },
    delivery_van: {
      description: 'Light commercial delivery van (combustion)',
      sensors: {
        engine_coolant_temp_c: { unit: 'degC', min: -40, max: 150, samplePeriodSec: 60 },
        oil_pressure_kpa: { unit: 'kPa', min: 0, max: 1000, samplePeriodSec: 60 },
        engine_speed_rpm: { unit: 'rpm', min: 0, max: 8000, samplePeriodSec: 60 },
        battery_12v_v: { unit: 'V', min: 0, max: 16, samplePeriodSec: 60 },
        brake_pad_mm: { unit: 'mm', min: 0, max: 20, samplePeriodSec: 60 },
        tire_pressure_fl_kpa: tire(),
        tire_pressure_fr_kpa: tire(),
        tire_pressure_rl_kpa: tire(),
        tire_pressure_rr_kpa: tire(),
      },
      failureModes: {
        // The coolant's steady temperature rises with the engine's load, for which its speed
        // stands in: measured against it, a failing pump or thermostat shows sooner.
        coolant_overheating: {
          sensors: ['engine_coolant_temp_c'], direction: 'rising', limit: 115, horizonHours: 72, activeAbove: 80, covariates: ['engine_speed_rpm'],
          description: 'Engine coolant temperature rising toward overheating (pump or thermostat)',
        },
        // Oil pressure follows the engine's speed (the pump turns with the crankshaft): measured
        // against it, a worn pump shows at every speed, not only beyond the spread of speeds.
        oil_pressure_loss: {
          sensors: ['oil_pressure_kpa'], direction: 'falling', limit: 100, horizonHours: 72, activeAbove: 30, covariates: ['engine_speed_rpm'],
          description: 'Oil pressure falling toward the minimum (pump wear or leak)',
        },
        starter_battery_failure: {
          sensors: ['battery_12v_v'], direction: 'falling', limit: 11.8, horizonHours: 72, activeBelow: 13.5,
          description: '12 V battery voltage falling toward the no-start level',
        },
        tire_pressure_loss: {
          sensors: ['tire_pressure_fl_kpa', 'tire_pressure_fr_kpa', 'tire_pressure_rl_kpa', 'tire_pressure_rr_kpa'],
          direction: 'falling', limit: 180, horizonHours: 72,
          description: 'Tire pressure falling toward the minimum safe pressure (slow puncture)',
        },
      },
    },
    refrigerator: {
      description: 'Domestic or commercial refrigerator',
      sensors: {
        cabinet_temp_c: { unit: 'degC', min: -30, max: 50, samplePeriodSec: 60 },
        evaporator_temp_c: { unit: 'degC', min: -50, max: 50, samplePeriodSec: 60 },
        compressor_current_a: { unit: 'A', min: 0, max: 20, samplePeriodSec: 60 },
        ambient_temp_c: { unit: 'degC', min: -20, max: 60, samplePeriodSec: 60 },
      },
      failureModes: {
        compressor_failure: {
          sensors: ['compressor_current_a'], direction: 'rising', limit: 6, horizonHours: 72, activeAbove: 0.5,
          description: 'Compressor current rising toward the overload trip (worn compressor)',
        },
        cooling_loss: {
          sensors: ['cabinet_temp_c'], direction: 'rising', limit: 8, horizonHours: 72,
          description: 'Cabinet temperature rising toward the food-safety limit (refrigerant leak, seal)',
        },
      },
    },
    washing_machine: {
      description: 'Domestic washing machine',
      sensors: {
        drum_vibration_mm_s: { unit: 'mm/s', min: 0, max: 100, samplePeriodSec: 60 },
        motor_current_a: { unit: 'A', min: 0, max: 20, samplePeriodSec: 60 },
        water_inlet_flow_lpm: { unit: 'L/min', min: 0, max: 40, samplePeriodSec: 60 },
        water_temp_c: { unit: 'degC', min: 0, max: 100, samplePeriodSec: 60 },
      },
      failureModes: {
        bearing_wear: {
          sensors: ['drum_vibration_mm_s'], direction: 'rising', limit: 25, horizonHours: 168, activeAbove: 2,
          description: 'Drum bearing vibration growing toward the damage limit',
        },
        inlet_valve_clog: {
          sensors: ['water_inlet_flow_lpm'], direction: 'falling', limit: 2, horizonHours: 168, activeAbove: 1,
          description: 'Water inlet flow falling toward the fill-timeout level (clogged valve or filter)',
        },
      },
    },
    hvac_unit: {
      description: 'Rooftop or split HVAC unit',
      sensors: {
        supply_air_temp_c: { unit: 'degC', min: -30, max: 80, samplePeriodSec: 60 },
        return_air_temp_c: { unit: 'degC', min: -30, max: 80, samplePeriodSec: 60 },
        compressor_current_a: { unit: 'A', min: 0, max: 60, samplePeriodSec: 60 },
        refrigerant_pressure_kpa: { unit: 'kPa', min: 0, max: 4000, samplePeriodSec: 60 },
        fan_vibration_mm_s: { unit: 'mm/s', min: 0, max: 100, samplePeriodSec: 60 },
      },
      failureModes: {
        refrigerant_leak: {
          sensors: ['refrigerant_pressure_kpa'], direction: 'falling', limit: 700, horizonHours: 72,
          description: 'Refrigerant pressure falling toward the low-pressure cut-out (leak)',
        },
        compressor_overload: {
          sensors: ['compressor_current_a'], direction: 'rising', limit: 32, horizonHours: 72, activeAbove: 5,
          description: 'Compressor current rising toward the overload trip',
        },
        fan_bearing_wear: {
          sensors: ['fan_vibration_mm_s'], direction: 'rising', limit: 18, horizonHours: 168, activeAbove: 1,
          description: 'Fan bearing vibration growing toward the damage limit',
        },
      },
    },
  },
};
