/**
 * Build the benchmark corpus from real files already on the machine: Python's own archive and mail
 * test data, PE launchers shipped with pip and setuptools, ELF libraries, jars, wheels, .deb
 * packages, images and gzip'd documentation. Nothing is copied or committed: the corpus is a
 * manifest of paths, sizes and SHA-256s (`bench/.corpus/manifest.json`), capped in size, picked
 * deterministically (sorted paths, an even stride through each category).
 *
 * Run: `deno run -A bench/corpus.ts [--max-files 1400] [--max-bytes 300000000]`
 *
 * @module
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** One file of the corpus. */
export interface CorpusFile {
  /** Where it is. */
  path: string;
  /** Its size in bytes. */
  size: number;
  /** Its SHA-256, to notice a changed file. */
  sha256: string;
  /** What kind of file it was picked as. */
  category: string;
}

/** The corpus manifest. */
export interface Corpus {
  /** When it was built. */
  built: string;
  /** The host it was built on. */
  host: string;
  /** The files. */
  files: CorpusFile[];
}

/** Where the corpus manifest and the synthetic files go (ignored by git). */
export const CORPUS_DIR: string = fileURLToPath(new URL("./.corpus", import.meta.url));
/** The manifest's path. */
export const MANIFEST: string = join(CORPUS_DIR, "manifest.json");

const MAX_FILE = 8 * 1024 * 1024;

/** Categories: where to look and which names to take, with each one's share of the corpus. */
const CATEGORIES: { name: string; roots: string[]; match: RegExp; share: number }[] = [
  {
    name: "python-test-data",
    roots: ["/usr/lib/python3.11/test", "/root/.pyenv/versions/3.11.7/lib/python3.11/test"],
    match:
      /\.(zip|tar|tgz|gz|bz2|xz|7z|eml|mbox|msg|wav|aif[fc]?|au|png|gif|jpg|bmp|tif|ico|pem|der|whl|egg|pck|pyc|dat|bin)$|\/test_email\/data\//i,
    share: 0.2,
  },
  {
    name: "pe-launchers",
    roots: ["/root/.pyenv/versions", "/usr/lib/python3", "/usr/share/python-wheels"],
    match: /\.exe$/i,
    share: 0.04,
  },
  {
    name: "elf-libraries",
    roots: ["/usr/lib/x86_64-linux-gnu"],
    match: /\.so(\.\d+)*$/,
    share: 0.2,
  },
  {
    name: "jars",
    roots: ["/usr/share/java", "/usr/share/maven-repo", "/root/.m2"],
    match: /\.jar$/i,
    share: 0.1,
  },
  {
    name: "wheels",
    roots: ["/root/.pyenv/versions", "/usr/share/python-wheels", "/root/.cache/pip"],
    match: /\.whl$/i,
    share: 0.08,
  },
  { name: "debs", roots: ["/var/cache/apt/archives"], match: /\.deb$/i, share: 0.12 },
  {
    name: "images",
    roots: ["/usr/share/icons", "/usr/share/pixmaps"],
    match: /\.(png|svg|xpm|gif)$/i,
    share: 0.1,
  },
  { name: "gzip-docs", roots: ["/usr/share/doc"], match: /\.gz$/i, share: 0.16 },
];

function walk(root: string, match: RegExp, out: string[], limit = 200_000) {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(root)];
  } catch {
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (out.length >= limit) return;
    const path = join(root, entry.name);
    if (entry.isDirectory) walk(path, match, out, limit);
    else if (entry.isFile && match.test(path)) out.push(path);
  }
}

/** Build the manifest. */
export async function buildCorpus(maxFiles: number, maxBytes: number): Promise<Corpus> {
  const files: CorpusFile[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  for (const category of CATEGORIES) {
    const found: string[] = [];
    for (const root of category.roots) walk(root, category.match, found);
    const candidates = found.filter((path) => {
      try {
        const info = Deno.statSync(path);
        return info.isFile && info.size > 0 && info.size <= MAX_FILE;
      } catch {
        return false;
      }
    });
    const want = Math.round(maxFiles * category.share);
    const stride = Math.max(1, candidates.length / Math.max(1, want));
    let budget = maxBytes * category.share;
    for (let i = 0; i < candidates.length && files.length < maxFiles; i += stride) {
      const path = candidates[Math.floor(i)];
      const content = await Deno.readFile(path);
      const sha256 = createHash("sha256").update(content).digest("hex");
      if (seen.has(sha256) || content.byteLength > budget) continue;
      seen.add(sha256);
      budget -= content.byteLength;
      bytes += content.byteLength;
      files.push({ path, size: content.byteLength, sha256, category: category.name });
    }
  }
  return { built: new Date().toISOString(), host: Deno.hostname(), files };
}

if (import.meta.main) {
  const arg = (name: string, fallback: number) => {
    const at = Deno.args.indexOf(name);
    return at >= 0 ? Number(Deno.args[at + 1]) : fallback;
  };
  const corpus = await buildCorpus(arg("--max-files", 1400), arg("--max-bytes", 300_000_000));
  await Deno.mkdir(CORPUS_DIR, { recursive: true });
  await Deno.writeTextFile(MANIFEST, JSON.stringify(corpus, null, 1) + "\n");
  const total = corpus.files.reduce((n, f) => n + f.size, 0);
  const byCategory = new Map<string, number>();
  for (const file of corpus.files) {
    byCategory.set(file.category, (byCategory.get(file.category) ?? 0) + 1);
  }
  console.log(
    `${corpus.files.length} files, ${(total / 1e6).toFixed(1)} MB -> ${MANIFEST}\n` +
      [...byCategory].map(([name, n]) => `  ${name}: ${n}`).join("\n"),
  );
}
