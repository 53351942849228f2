/**
 * The action text the model reads: a REST-style tool's route in words (issue 27, session 12).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { actionText, restText } from '../../activities/intent/scorer';

describe('restText', () => {
  it('a method as a verb and the route\'s resources, without parameters or versions', () => {
    assert.equal(restText('PATCH /v1/pages/{page_id}/components/{component_id}'), 'update pages components');
    assert.equal(restText('DELETE /api/v1/users/{userId}/factors'), 'delete users factors');
    assert.equal(restText('POST /v1/apps/{appId}/releases/{track}:halt'), 'create apps releases halt');
    assert.equal(restText('GET /v2/employees'), 'get employees');
    assert.equal(restText('PUT /x'), 'set x');
  });

  it('leaves every other naming style as written', () => {
    for (const tool of ['k8s.rollout.restart', 'Delete/Image', 'payroll_run_get', 'GET', 'HEAD /x', 'get /x']) assert.equal(restText(tool), tool);
  });

  it('is what actionText puts first', () => {
    assert.equal(actionText({ tool: 'GET /v2/employees/{id}', description: 'Get an employee.', args: { id: 'E10877' }, at: 0 }), 'get employees Get an employee. E10877');
  });
});
