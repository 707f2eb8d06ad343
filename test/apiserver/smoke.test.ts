import { connect } from '../support/apiserver';
test('smoke', async () => {
  const k = connect();
  const r = await k.request('GET', '/version');
  expect(r.body.gitVersion).toBe('v1.32.13');
  k.close();
});
