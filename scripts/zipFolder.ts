// The app package for Flex Consumption's deployment API: the project's files minus what
// `.funcignore` leaves out, as a zip (deflate), written with Node's own zlib — no `zip` binary and
// no Core Tools needed on the deployer's machine.

import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { deflateRawSync } from "node:zlib";

/** Whether `path` (relative, `/`-separated) is left out by one of `.funcignore`'s patterns. */
export function ignoredBy(patterns: readonly string[], path: string): boolean {
  const segments = path.split("/");
  return patterns.some((pattern) => {
    if (pattern.includes("/")) return path === pattern || path.startsWith(`${pattern}/`);
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    // A pattern without a slash matches the top-level entry of that name (and all below it).
    return re.test(segments[0] ?? "") || (segments.length === 1 && re.test(path));
  });
}

/** Every file under `root` that `.funcignore` (its text) keeps, as relative `/`-separated paths. */
export function zipEntries(root: string, funcignore: string): { path: string; file: string }[] {
  const patterns = funcignore
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const out: { path: string; file: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      const path = relative(root, file).split(sep).join("/");
      if (ignoredBy(patterns, path)) continue;
      if (statSync(file).isDirectory()) walk(file);
      else out.push({ path, file });
    }
  };
  walk(root);
  return out;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = (crcTable[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Writes `entries` to a zip file at `target` (no directories, deflated, no data descriptors). */
export function writeZip(target: string, entries: readonly { path: string; file: string }[]): void {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const data = readFileSync(entry.file);
    const packed = deflateRawSync(data);
    const name = Buffer.from(entry.path, "utf8");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, packed);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(0x031e, 4); // made by: Unix, 3.0
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(0x0800, 8);
    header.writeUInt16LE(8, 10);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(packed.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(name.length, 28);
    header.writeUInt32LE((0o100644 << 16) >>> 0, 38); // a regular file, rw-r--r--
    header.writeUInt32LE(offset, 42);
    central.push(header, name);
    offset += local.length + name.length + packed.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(target, Buffer.concat([...parts, directory, end]));
}
