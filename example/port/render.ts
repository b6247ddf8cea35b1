// Trace records as the text lines the C reference prints, with the port's
// TRACE_TS prefix in place of TRACE_C.

import { formatInteger, formatNumber } from './format.js';
import type { TraceRecord } from './records.js';

export function renderRecord(record: TraceRecord, prefix: string): string {
  switch (record.kind) {
    case 'setup': {
      const value = record.parts.map((part) => (typeof part === 'number' ? formatNumber(part) : part)).join('');
      return `${prefix}:${record.key}=${value}`;
    }
    case 'chain': {
      const format = record.integer ? formatInteger : formatNumber;
      return `${prefix}: ${record.key} ${record.values.map(format).join(' ')}`;
    }
    case 'phi':
      return (
        `${prefix}_PHI phi_tic=${formatInteger(record.phiTic)} phi_deg=${formatNumber(record.phiDeg)} ` +
        `k_frac=${formatNumber(record.kFrac)} F_latt_b=${formatNumber(record.FLattB)} F_latt=${formatNumber(record.FLatt)}`
      );
  }
}

export function renderTrace(records: readonly TraceRecord[], prefix = 'TRACE_TS'): string {
  return records.map((record) => renderRecord(record, prefix) + '\n').join('');
}
