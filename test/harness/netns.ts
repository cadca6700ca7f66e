/**
 * For a test file that makes its own network namespaces, all named `<tag><pid>-…`: the host's
 * root namespace is snapshotted before; after the file (also after a failure) every namespace with
 * the prefix is deleted, none may be left, and the host must be as it was.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { run } from '../../agent/sandbox/process.js';
import { closeAllRtnl, deleteNetns, listNetns } from '../../netlink/index.js';
import { snapshotHost, type HostSnapshot } from './host.js';

/** Registers the beforeAll/afterAll hooks; returns the file's namespace prefix. */
export function useTestNamespaces(tag: string): { readonly prefix: string } {
  const prefix = `${tag}${process.pid % 100000}-`;
  let before: HostSnapshot | undefined;
  const ours = () => listNetns().filter((n) => n.startsWith(prefix));
  beforeAll(async () => {
    before = await snapshotHost();
  });
  afterAll(async () => {
    closeAllRtnl();
    for (const ns of ours()) {
      await deleteNetns(ns).catch(() => run('ip', ['netns', 'delete', ns], { reject: false }));
    }
    expect(ours()).toEqual([]);
    if (before) expect(await snapshotHost()).toEqual(before);
  });
  return { prefix };
}
