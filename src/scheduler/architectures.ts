/** Architecture names and personalities: which member architectures can run which instances. */

/** LXD accepts Debian-style aliases; compare canonical (kernel) names only. */
const ALIASES: Readonly<Record<string, string>> = {
  amd64: "x86_64",
  i386: "i686",
  arm64: "aarch64",
  armhf: "armv7l",
  armel: "armv7l",
  ppc64el: "ppc64le",
};

export function canonicalArchitecture(name: string): string {
  return ALIASES[name] ?? name;
}

/** 64-bit hosts that also run their 32-bit personality (x86_64 runs i686, aarch64 runs armv7l). */
const PERSONALITIES: Readonly<Record<string, string>> = {
  i686: "x86_64",
  armv7l: "aarch64",
};

/** The member architectures able to run an instance of `architecture` (canonical names). */
export function hostArchitecturesFor(architecture: string): readonly string[] {
  const arch = canonicalArchitecture(architecture);
  const host = PERSONALITIES[arch];
  return host ? [arch, host] : [arch];
}
