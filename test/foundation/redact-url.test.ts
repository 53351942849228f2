/** How a database URL is printed (the start banner): no password, however it is spelled. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUrl } from '../../client/redact-url';

describe('redactUrl', () => {
  it('keeps the user, host and database and hides the password, one with `@` or `:` in it too', () => {
    assert.equal(redactUrl('postgres://gatehouse:s3cret@db:5432/audit'), 'postgres://gatehouse:***@db:5432/audit');
    assert.equal(redactUrl('postgres://gatehouse:p@ss:w@rd@db/audit'), 'postgres://gatehouse:***@db/audit');
    assert.equal(redactUrl('postgresql://:onlypw@db/audit'), 'postgresql://:***@db/audit');
  });

  it('hides secret query parameters and keeps the others', () => {
    assert.equal(redactUrl('postgres://u@db/audit?sslmode=require&password=zz&sslpassword=kk'), 'postgres://u@db/audit?sslmode=require&password=***&sslpassword=***');
  });

  it('leaves a URL without secrets as it is, and shows no userinfo of text that is no URL', () => {
    assert.equal(redactUrl('postgres://db/audit'), 'postgres://db/audit');
    assert.equal(redactUrl('postgres://u:p w@[bad/audit'), 'postgres://***@[bad/audit');
  });
});
