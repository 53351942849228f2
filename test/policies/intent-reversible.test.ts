/**
 * policies/intent-reversible.ts and its two rules in `actionSignals` (issue 27, session 13): a
 * removal that keeps what it removes (`cancel`, `archive`, `revoke`) is not capped under a change
 * that stops something, and a call that destroys is capped under an intent that asks only to take
 * out of use and keep (`archive`, `turn off`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keepsWhatItRemoves, reversibleVerb } from '../../policies/intent-reversible';
import { actionSignals, inferToolEffect, intentEffect, intentScope, toolVerb } from '../../policies/intent';

const sig = (intent: string, tool: string, args: unknown, effect?: 'read' | 'write' | 'destructive' | null) => actionSignals(intentScope(intent), tool, args, effect);

describe('reversible and irreversible removals', () => {
  it('the verb of a tool name, where its style puts it', () => {
    assert.deepEqual(toolVerb('payments.subscriptions.cancel'), { verb: 'cancel', effect: 'destructive' });
    assert.deepEqual(toolVerb('suspend_job_schedule'), { verb: 'suspend', effect: 'destructive' });
    assert.deepEqual(toolVerb('productDelete'), { verb: 'delete', effect: 'destructive' });
    assert.deepEqual(toolVerb('db.query.readonly'), { verb: 'readonly', effect: 'read' });
    assert.deepEqual(toolVerb('foo.bar'), { verb: null, effect: null });
    assert.deepEqual(toolVerb(''), { verb: null, effect: null });
    assert.equal(reversibleVerb('cancel'), true);
    assert.equal(reversibleVerb('delete'), false);
    assert.equal(reversibleVerb(null), false);
    assert.equal(keepsWhatItRemoves(['archive', 'disable']), true);
    assert.equal(keepsWhatItRemoves(['archive', 'delete']), false);
    assert.equal(keepsWhatItRemoves([]), false);
  });

  it('a change that stops something allows a removal that keeps it, not one that destroys it', () => {
    assert.deepEqual(sig('stop that runaway build on data-pipelines', 'pipelineRunCancel', { project: 'data-pipelines', pipeline: 'nightly' }), { cap: 1, floor: 0, effect: 'destructive', signals: [] });
    assert.deepEqual(sig('hold the spring sale blast', 'campaigns.suspend', {}, 'destructive').cap, 1, 'the catalog says destructive, the name says how');
    assert.deepEqual(sig('stop that runaway build', 'pipelineDelete', {}), {
      cap: 0.3, floor: 0, effect: 'destructive', signals: [{ code: 'effect', message: 'a destructive call under an intent that implies write' }],
    });
    assert.equal(sig('stop the job', 'run_sql_cancel', { sql: 'delete from jobs where id = 4' }).cap, 0.3, 'a statement says what the call does, not its name');
    assert.equal(sig('how is the build doing?', 'pipelineRunCancel', {}).cap, 0.05, 'under a read intent any removal is capped');
  });

  it('an intent that takes out of use and keeps is exceeded by a call that destroys', () => {
    const destroys = { cap: 0.3, floor: 0, effect: 'destructive', signals: [{ code: 'effect', message: 'a call that destroys under an intent that asks to take out of use and keep' }] };
    assert.deepEqual(sig('archive exp_q2_hero_video, it is done', 'delete_experiment', { experimentId: 'exp_q2_hero_video' }), destroys);
    assert.deepEqual(sig('turn off the LUCAS15 code for now', 'discountCodeDelete', { code: 'LUCAS15' }), destroys);
    assert.equal(sig('archive exp_q2_hero_video', 'archive_experiment', { experimentId: 'exp_q2_hero_video' }).cap, 1);
    assert.equal(sig('archive exp_q2_hero_video', 'experiments.disable', {}).cap, 1, 'another removal that keeps');
    assert.equal(sig('archive and delete the old experiments', 'delete_experiment', {}).cap, 1, 'the intent also asks to destroy');
    assert.equal(sig('delete the old experiments', 'delete_experiment', {}).cap, 1);
    assert.equal(sig('archive the experiment', 'experiments.delete', { sql: 'x' }, 'destructive').cap, 0.3, 'the catalog effect with a destroying name');
  });
});

describe('effect verbs operations domains use (session 13)', () => {
  it('abort, del, flushdb remove; resolve, unlock, submit change; info, simulate, tap look', () => {
    const cases: Record<string, string> = {
      'fleet.firmware.rollouts.abort': 'destructive', 'cachectl keys del': 'destructive', 'cachectl flushdb': 'destructive', 'cachectl flushall': 'destructive', 'Undeploy/ModelVersion': 'destructive', 'mdm.profiles.unassign': 'destructive',
      resolveIncident: 'write', 'tfc workspace force-unlock': 'write', 'payments.disputes.submitEvidence': 'write', SecurityGroupAuthorizeIngress: 'write', dagUnpause: 'write', dlqRedrive: 'write', 'Transition/ModelStage': 'write', 'artifacts.packages.versions.deprecate': 'write',
      'workspace.channels.info': 'read', simulate_principal_policy: 'read', 'obs.pipelines.tap': 'read',
    };
    for (const [tool, effect] of Object.entries(cases)) assert.equal(inferToolEffect(tool), effect, tool);
    assert.equal(reversibleVerb(toolVerb('abort_execution').verb), true, 'an abort stops, like a cancel');
    assert.equal(reversibleVerb(toolVerb('cachectl flushdb').verb), false);
  });

  it('"free up" clears', () => {
    assert.equal(intentEffect('free up artifact storage older than 30 days'), 'destructive');
    assert.equal(intentEffect('freeing up the licenses'), 'destructive');
  });
});
