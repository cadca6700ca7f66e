/**
 * CNI spec versions this plugin speaks, and what each changed in the plugin's output:
 * 0.3.x adds `interfaces` and `ips[].interface`; 0.4.0 adds CHECK; 1.0.0 drops `ips[].version`;
 * 1.1.0 adds STATUS, GC and `interfaces[].mtu`.
 */
export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

/** The version reported when the runtime names none (VERSION without a configuration). */
export const LATEST_VERSION: CniVersion = '1.1.0';

export function isSupported(v: string): v is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** `a >= b` for dotted versions. */
export function atLeast(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}
