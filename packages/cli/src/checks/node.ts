// The common check: a device node that must exist and open.

import { type AbsenceSpec, absenceReason, openFailure } from '../reasons.js';
import type { Check, CheckGroup, Reason } from '../report.js';
import { type Context, groupOf, statPath, tryOpen } from '../system.js';

export interface NodeSpec extends AbsenceSpec {
  id: string;
  group: CheckGroup;
  title: string;
  /** open(2) flags for the probe. */
  flags: number;
}

type CheckBase = Pick<Check, 'id' | 'group' | 'title' | 'path' | 'config'>;

export function available(
  base: CheckBase,
  note: string | null = null,
  details: Check['details'] = null,
): Check {
  return { ...base, available: true, reason: null, note, details };
}

export function unavailable(base: CheckBase, why: Reason, details: Check['details'] = null): Check {
  return { ...base, available: false, reason: why, note: null, details };
}

/** Present and opens (then closed again) → available; otherwise the reason. */
export function checkNode(ctx: Context, spec: NodeSpec): Check {
  const base: CheckBase = {
    id: spec.id,
    group: spec.group,
    title: spec.title,
    path: spec.path,
    config: [...spec.config],
  };
  const st = statPath(ctx, spec.path);
  if (st.kind === 'error') return unavailable(base, openFailure(spec.path, st.errno));
  if (st.kind === 'absent') return unavailable(base, absenceReason(ctx, spec));
  const errno = tryOpen(ctx, spec.path, spec.flags);
  return errno ? unavailable(base, openFailure(spec.path, errno, groupOf(ctx, spec.path))) : available(base);
}
