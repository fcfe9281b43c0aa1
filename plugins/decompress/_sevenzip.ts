/**
 * 7z, RAR, CAB, ISO 9660, cpio and RPM through 7-Zip compiled to WebAssembly (`7z-wasm`), in
 * memory. The archive is listed first (`l -slt`), the limits are checked against the declared
 * sizes, and only the admitted members are extracted, one fresh wasm instance per archive so its
 * memory is released afterwards.
 *
 * @module
 */
import SevenZip from "7z-wasm";
import type { Extraction } from "./_extraction.ts";

interface ListedMember {
  path: string;
  size?: number;
  packed?: number;
  encrypted: boolean;
}

interface SevenZipInstance {
  FS: {
    writeFile(path: string, data: Uint8Array): void;
    readFile(path: string): Uint8Array;
    mkdir(path: string): void;
    unlink(path: string): void;
    analyzePath(path: string): { exists: boolean };
  };
  callMain(args: string[]): void;
}

let compiled: Promise<WebAssembly.Module> | undefined;

async function instance(output: string[]): Promise<SevenZipInstance> {
  // 7z-wasm's .wasm file is beside its module in node_modules: read it once (the manifest's
  // [Permissions] grants that read) and compile it once for every instance.
  compiled ??= Deno.readFile(new URL(import.meta.resolve("7z-wasm/7zz.wasm")))
    .then((bytes) => WebAssembly.compile(bytes));
  const module = await compiled.catch((error) => {
    compiled = undefined;
    throw new Error(`7-Zip (wasm) unavailable: ${error instanceof Error ? error.message : error}`);
  });
  const factory = SevenZip as unknown as (options: unknown) => Promise<SevenZipInstance>;
  return await factory({
    instantiateWasm(
      imports: WebAssembly.Imports,
      done: (instance: WebAssembly.Instance) => void,
    ) {
      WebAssembly.instantiate(module, imports).then(done);
      return {};
    },
    print: (line: string) => output.push(line),
    printErr: (line: string) => output.push(line),
    stdin: () => null,
  });
}

/** Extract an archive that 7-Zip reads. */
export async function extractWith7z(
  data: Uint8Array,
  options: { extraction: Extraction; passwords: string[]; type: string },
): Promise<void> {
  const { extraction, passwords } = options;
  // "-" first: an archive without encrypted headers lists with any password.
  const attempts = ["", ...passwords];
  let listed: ListedMember[] | undefined;
  let listPassword = "";
  let problems: string[] = [];
  for (const password of attempts) {
    const output: string[] = [];
    const sz = await instance(output);
    sz.FS.writeFile("/archive", data);
    sz.FS.mkdir("/out");
    call(sz, ["l", "-slt", `-p${password}`, `-t${options.type}`, "/archive"]);
    problems = errorLines(output);
    if (problems.some((line) => /wrong password/i.test(line))) continue;
    listed = parseListing(output);
    listPassword = password;
    break;
  }
  for (const problem of problems) extraction.error(problem);
  if (!listed) {
    extraction.error(
      "archive headers are encrypted and no password in the list opened them",
      "encrypted",
    );
    return;
  }
  const wanted = new Map<string, ListedMember>();
  let blockPacked: number | undefined;
  for (const member of listed) {
    // In a solid block only the first member carries the block's packed size.
    if (member.packed) blockPacked = member.packed;
    const packed = member.packed || blockPacked;
    if (!extraction.admit({ path: member.path, declared: member.size, packed })) continue;
    wanted.set(member.path, member);
  }
  if (wanted.size === 0) return;
  const needsPassword = [...wanted.values()].some((member) => member.encrypted);
  const tries = needsPassword ? unique([listPassword, ...passwords].filter(Boolean)) : [""];
  for (const password of tries) {
    const output: string[] = [];
    const sz = await instance(output);
    sz.FS.writeFile("/archive", data);
    sz.FS.mkdir("/out");
    call(sz, [
      "x",
      "-y",
      "-spd",
      "-snl-",
      `-p${password}`,
      `-t${options.type}`,
      "-o/out",
      "/archive",
      "--",
      ...wanted.keys(),
    ]);
    const wrongPassword = new Set<string>();
    for (const line of errorLines(output)) {
      const match = /wrong password\? : (.*)$/i.exec(line);
      if (match) wrongPassword.add(match[1]);
      else extraction.error(line);
    }
    for (const [path, member] of [...wanted]) {
      if (wrongPassword.has(path)) continue;
      const file = `/out/${path}`;
      if (!sz.FS.analyzePath(file).exists) continue;
      const content = sz.FS.readFile(file);
      sz.FS.unlink(file);
      wanted.delete(path);
      const problem = extraction.checkRunning({ path, size: content.length });
      if (problem) {
        extraction.error(problem.message, problem.kind);
        continue;
      }
      if (member.encrypted) extraction.password = password;
      extraction.add({
        path,
        content: content.slice(),
        extra: member.encrypted ? { password } : undefined,
      });
    }
    if (wrongPassword.size === 0) break;
  }
  for (const [path, member] of wanted) {
    extraction.error(
      member.encrypted
        ? `member ${
          JSON.stringify(path)
        } is encrypted and no password in the list opened it (passwords)`
        : `member ${JSON.stringify(path)} could not be extracted`,
      member.encrypted ? "encrypted" : "corrupt",
    );
  }
}

function call(sz: SevenZipInstance, args: string[]): void {
  try {
    sz.callMain(["-bso1", "-bse1", "-bsp0", ...args]);
  } catch (error) {
    // Emscripten throws an ExitStatus on a non-zero exit; the output says why.
    if (!(error && typeof error === "object" && "status" in error)) throw error;
  }
}

function errorLines(output: string[]): string[] {
  const problems: string[] = [];
  for (const line of output) {
    const text = line.trim();
    if (
      /^ERROR:|^Open ERROR|^Can ?not open the file as|^Unexpected end|^Headers Error|^Data Error|^CRC Failed|^There are data after|^Unconfirmed start/i
        .test(text)
    ) {
      problems.push(text.replace(/^ERROR: /, "").replace(/ : \/archive$/, "").replace("/out/", ""));
    }
  }
  return unique(problems);
}

function parseListing(output: string[]): ListedMember[] {
  const start = output.findIndex((line) => line.startsWith("----------"));
  if (start < 0) return [];
  const members: ListedMember[] = [];
  let block: Record<string, string> = {};
  const flush = () => {
    if (block.Path !== undefined) {
      const folder = block.Folder === "+" || /^D/.test(block.Attributes ?? "");
      if (!folder) {
        members.push({
          path: block.Path,
          size: block.Size ? Number(block.Size) : undefined,
          packed: block["Packed Size"] ? Number(block["Packed Size"]) : undefined,
          encrypted: block.Encrypted === "+",
        });
      }
    }
    block = {};
  };
  for (const line of output.slice(start + 1)) {
    if (line.trim() === "") {
      flush();
      continue;
    }
    const index = line.indexOf(" = ");
    if (index > 0) block[line.slice(0, index)] = line.slice(index + 3);
  }
  flush();
  return members;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
