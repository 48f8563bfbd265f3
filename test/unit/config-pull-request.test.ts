// remote.pullRequest validation: defaults, inference for github.com, and errors that name the field.
import { describe, expect, it } from 'vitest';
import { validatePullRequest } from '../../src/config/pull-request.ts';

const gh = { remoteUrl: 'https://github.com/acme/history.git', allowInsecureHttp: false };
const gitea = { remoteUrl: 'https://git.example.com/acme/history.git', allowInsecureHttp: false };

describe('validatePullRequest', () => {
  it('true (the flag alone) gives the defaults on github.com', () => {
    expect(validatePullRequest(true, gh)).toEqual({
      base: 'main', forge: undefined, apiUrl: undefined, mode: 'always',
      guardedTypes: ['rbac.authorization.k8s.io.*', 'core.v1.Secret', 'apiextensions.k8s.io.*.CustomResourceDefinition', 'admissionregistration.k8s.io.*'],
      labels: [], reviewers: [], teamReviewers: [], draft: false,
    });
  });
  it('takes every field', () => {
    expect(validatePullRequest({ base: 'prod', forge: 'gitea', apiUrl: 'https://git.example.com/api/v1/', mode: 'guarded',
      guardedTypes: ['apps.*'], labels: ['kubetrail'], reviewers: ['alice'], teamReviewers: ['sre'], draft: true }, gitea))
      .toMatchObject({ base: 'prod', forge: 'gitea', apiUrl: 'https://git.example.com/api/v1', mode: 'guarded', guardedTypes: ['apps.*'], draft: true });
  });
  it.each([
    [{ forge: 'gitlab' }, gh, 'remote.pullRequest.forge: must be one of github, gitea (got "gitlab")'],
    [{}, gitea, 'remote.pullRequest.forge: set github (GitHub Enterprise) or gitea for git.example.com'],
    [{ base: 'a..b' }, gh, 'remote.pullRequest.base: must not contain ".."'],
    [{ mode: 'sometimes' }, gh, 'remote.pullRequest.mode: must be one of always, guarded'],
    [{ guardedTypes: ['rbac.[x'] }, gh, 'remote.pullRequest.guardedTypes[0]: invalid type pattern "rbac.[x"'],
    [{ labels: 'kubetrail' }, gh, 'remote.pullRequest.labels: must be a list of non-empty strings'],
    [{ draft: 'yes' }, gh, 'remote.pullRequest.draft: must be true or false'],
    [{ apiUrl: 'http://git.example.com/api/v1', forge: 'gitea' }, gitea, 'remote.pullRequest.apiUrl: http:// sends the token in clear'],
    [{ reviewer: ['a'] }, gh, 'remote.pullRequest.reviewer: unknown key'],
    ['yes', gh, 'remote.pullRequest: must be a map'],
  ])('%j is refused, naming the field', (raw, o, message) => {
    expect(() => validatePullRequest(raw, o)).toThrow(message);
  });
  it('an http apiUrl is allowed with remote.allowInsecureHttp (the test forge)', () => {
    expect(validatePullRequest({ forge: 'gitea', apiUrl: 'http://127.0.0.1:3000/api/v1' }, { ...gitea, allowInsecureHttp: true }).apiUrl)
      .toBe('http://127.0.0.1:3000/api/v1');
  });
});
