import { html } from 'ghtml';
import type { ConsolePage } from '../console-page.js';
import { cell, fields, table } from '../layout.js';
import type { LogHead, ProjectionStatus, RebuildAnswer } from '../views.js';

/**
 * Each read model's checkpoint and its lag behind the log's head (in events' positions), the lease the
 * projections run under, and this instance's online rebuild (running or last: phase, position / head,
 * the error of a failed one). The status route has no last error of the live projections yet: not shown.
 */
export const projectionsPage: ConsolePage = {
  path: '/console/projections',
  section: 'projections',
  async render({ api }) {
    const status = await api.json<ProjectionStatus>('/v1/projections');
    const head = await api.json<LogHead>('/v1/log/head');
    const { rebuild } = await api.json<RebuildAnswer>('/v1/projections/rebuild');
    const headPosition = BigInt(head.position);
    return {
      title: 'Projections',
      body: html`!${fields([
          ['Log head', head.position],
          ['This instance', status.instance.holder],
          ['Holding the projections', status.instance.holding],
        ])}
        <h2>Read models</h2>
        !${table(
          ['Projection', 'Checkpoint', 'Lag (positions)'],
          status.projections.map((p) => {
            const lag = headPosition - BigInt(p.checkpoint);
            return [
              cell(p.name),
              cell(p.checkpoint),
              html`<span class="${lag === 0n ? 'ok' : ''}">${lag < 0n ? 0n : lag}</span>`,
            ];
          }),
        )}
        <h2>Online rebuild</h2>
        !${
          rebuild === null
            ? html`<p>No online rebuild on this instance since it started.</p>`
            : html`<div data-rebuild-phase="${rebuild.phase}">
                !${fields([
                  ['Phase', rebuild.phase],
                  ['Reason', rebuild.reason],
                  ['Projections', rebuild.projections.join(', ')],
                  ['Switched in', rebuild.switched.length > 0 ? rebuild.switched.join(', ') : null],
                  ['Current', rebuild.current],
                  [
                    'Position / head',
                    rebuild.position === null ? null : `${rebuild.position} / ${rebuild.head ?? '?'}`,
                  ],
                  ['Started', rebuild.startedAt],
                  ['Finished', rebuild.finishedAt],
                  ['Error', rebuild.error],
                ])}
              </div>`
        }
        <h2>Leases</h2>
        !${table(
          ['Lease', 'Holder', 'Token', 'Expires', 'Expired'],
          status.leases.map((l) => [cell(l.name), cell(l.holder), cell(l.token), cell(l.expiresAt), cell(l.expired)]),
          'no leases',
        )}`,
    };
  },
};
