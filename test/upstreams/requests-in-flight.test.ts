/**
 * The requests a connection has in flight, which tell a stdio log message's call: one only while
 * its request is the one in flight, whoever made the others (an estimate, a listing), and a
 * cancelled request stays counted for a while, since its handler may still be logging.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { RequestsInFlight } from '../../activities/upstreams/requests-in-flight';

const request = (id: number, method = 'tools/call') => ({ jsonrpc: '2.0', id, method, params: {} }) as JSONRPCMessage;
const answer = (id: number) => ({ jsonrpc: '2.0', id, result: {} }) as JSONRPCMessage;
const cancel = (id: number) => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } }) as JSONRPCMessage;

describe('requests in flight', () => {
  it("tells the call only while its request is the only one, a request of no call counted too", () => {
    const f = new RequestsInFlight(1_000);
    f.sent(request(1), 'session-a:p1', 0);
    assert.equal(f.soleCall(0), 'session-a:p1');
    f.sent(request(2), undefined, 0); // an estimate, a listing
    assert.equal(f.soleCall(0), undefined);
    f.received(answer(1));
    assert.equal(f.soleCall(0), undefined, 'the one left is no call');
    f.received(answer(2));
    assert.equal(f.count(0), 0);
  });

  it('keeps a cancelled request counted for the grace time, unless the server answers it', () => {
    const f = new RequestsInFlight(1_000);
    f.sent(request(1), 'session-a:p1', 0);
    f.sent(request(2), 'session-b:p1', 0);
    f.sent(cancel(2), 'session-b:p1', 100);
    assert.equal(f.soleCall(1_100), undefined, 'still counted at the end of the grace');
    assert.equal(f.soleCall(1_101), 'session-a:p1');
    f.sent(request(3), 'session-c:p1', 1_200);
    f.sent(cancel(3), 'session-c:p1', 1_200);
    f.received(answer(3));
    assert.equal(f.soleCall(1_200), 'session-a:p1');
  });

  it("forgets a request whose sending failed, and ignores the server's own requests and the client's answers", () => {
    const f = new RequestsInFlight(1_000);
    f.sent(request(1), 'session-a:p1', 0);
    f.sent(request(2), undefined, 0);
    f.unsent(request(2));
    f.received({ jsonrpc: '2.0', id: 7, method: 'ping' } as JSONRPCMessage);
    f.sent({ jsonrpc: '2.0', id: 7, result: {} } as JSONRPCMessage, undefined, 0);
    assert.equal(f.soleCall(0), 'session-a:p1');
  });
});
