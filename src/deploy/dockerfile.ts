/** One instruction of a Dockerfile, continuation lines joined. */
export interface Instruction {
  /** Upper-case keyword: `FROM`, `RUN`, … */
  readonly keyword: string;
  /** The rest of the line, as written. */
  readonly args: string;
  /** 1-based line where it starts. */
  readonly line: number;
}

/** A build stage: its `FROM` and what follows up to the next `FROM`. */
export interface Stage {
  readonly name: string | undefined;
  /** The base image, with `ARG` defaults substituted. */
  readonly image: string;
  readonly instructions: readonly Instruction[];
}

/** Splits a Dockerfile into instructions: joins `\` continuations, drops comments and blank lines. */
export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (buffer === '' && /^\s*(#|$)/.test(line)) return;
    if (buffer !== '' && /^\s*#/.test(line)) return; // comments inside a continuation
    if (buffer === '') start = index + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      return;
    }
    buffer += line;
    const match = /^\s*([A-Za-z]+)\s*(.*)$/.exec(buffer);
    if (match) instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start });
    buffer = '';
  });
  return instructions;
}

function substitute(text: string, args: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a?: string, b?: string) => args.get((a ?? b)!) ?? whole);
}

/** Groups instructions into stages, resolving `ARG` defaults declared before the first `FROM`. */
export function stages(instructions: readonly Instruction[]): Stage[] {
  const globalArgs = new Map<string, string>();
  const result: { name: string | undefined; image: string; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = substitute(instruction.args, globalArgs).split(/\s+/);
      result.push({ name: as?.toUpperCase() === 'AS' ? name : undefined, image, instructions: [] });
    } else if (result.length === 0) {
      const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(instruction.args);
      if (instruction.keyword === 'ARG' && match) globalArgs.set(match[1]!, match[2]!.replace(/^"|"$/g, ''));
    } else {
      result[result.length - 1]!.instructions.push(instruction);
    }
  }
  return result;
}

function execForm(args: string): string[] | undefined {
  try {
    const value = JSON.parse(args) as unknown;
    return Array.isArray(value) && value.every((item) => typeof item === 'string') ? (value as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** What the image must look like, from the manifests it runs under. */
export interface DockerfileExpectations {
  /** The pods' runAsUser / runAsGroup (the image's USER must agree). Default 10001. */
  uid?: number;
  gid?: number;
  /** The containerPort of the manifests. Default 8080. */
  port?: number;
}

/**
 * Lints a Dockerfile against the image rules of docs/deploy.md and returns one message per
 * violation: pinned bases, multi-stage with production-only dependencies in the final stage,
 * numeric non-root USER above 10000, no HEALTHCHECK, exec-form ENTRYPOINT with an init as PID
 * 1, pinned and cleaned apt installs, COPY rather than ADD.
 */
export function lintDockerfile(text: string, expect: DockerfileExpectations = {}): string[] {
  const problems: string[] = [];
  const all = parseDockerfile(text);
  const built = stages(all);
  const at = (i: Instruction) => `line ${i.line} ${i.keyword}`;
  if (built.length < 2) problems.push('must be multi-stage (build with dev dependencies, run with production ones)');
  const names = new Set(built.map((s) => s.name).filter((n) => n !== undefined));
  for (const stage of built) {
    const image = stage.image;
    if (names.has(image)) continue;
    const pinned = /@sha256:[0-9a-f]{64}$/.test(image) || /:(\d+\.\d+\.\d+)[^:/]*$/.test(image);
    if (!pinned) problems.push(`FROM ${image}: pin the base image to an exact version or digest`);
    if (/^node:/.test(image) && !/^node:20\./.test(image)) problems.push(`FROM ${image}: Warden targets Node 20`);
  }
  for (const instruction of all) {
    if (instruction.keyword === 'HEALTHCHECK') problems.push(`${at(instruction)}: no HEALTHCHECK; Kubernetes probes /healthz and /readyz`);
    if (instruction.keyword === 'ADD') problems.push(`${at(instruction)}: use COPY (ADD fetches URLs and unpacks archives)`);
    if (instruction.keyword === 'RUN') {
      const run = instruction.args;
      if (/\bsudo\b/.test(run)) problems.push(`${at(instruction)}: no sudo`);
      if (/chmod\s+(-R\s+)?0?777\b/.test(run)) problems.push(`${at(instruction)}: no world-writable files`);
      if (/\b(curl|wget)\b/.test(run)) problems.push(`${at(instruction)}: no downloads outside package managers`);
      if (/apt-get install/.test(run)) {
        if (!/--no-install-recommends/.test(run)) problems.push(`${at(instruction)}: apt-get install --no-install-recommends`);
        if (!/rm -rf \/var\/lib\/apt\/lists/.test(run)) problems.push(`${at(instruction)}: remove /var/lib/apt/lists in the same RUN`);
        const packages = run.split(/apt-get install/)[1]!.split('&&')[0]!.split(/\s+/).filter((w) => w !== '' && !w.startsWith('-'));
        for (const pkg of packages) if (!pkg.replace(/"/g, '').includes('=')) problems.push(`${at(instruction)}: pin apt package ${pkg} (pkg=version)`);
      }
    }
    if (instruction.keyword === 'WORKDIR' && !instruction.args.startsWith('/')) problems.push(`${at(instruction)}: WORKDIR must be absolute`);
  }
  const final = built[built.length - 1];
  if (final === undefined) return [...problems, 'no FROM'];
  const finalOf = (keyword: string) => final.instructions.filter((i) => i.keyword === keyword).at(-1);
  const user = finalOf('USER');
  const [uid, gid] = (user?.args ?? '').split(':');
  if (user === undefined || !/^\d+$/.test(uid ?? '') || !/^\d+$/.test(gid ?? '')) {
    problems.push('the final stage needs USER <uid>:<gid>, numeric, so runAsNonRoot can verify it');
  } else {
    if (Number(uid) <= 10000 || Number(gid) <= 10000) problems.push(`USER ${user.args}: uid and gid must be above 10000`);
    if (expect.uid !== undefined && Number(uid) !== expect.uid) problems.push(`USER ${user.args}: the manifests run as uid ${expect.uid}`);
    if (expect.gid !== undefined && Number(gid) !== expect.gid) problems.push(`USER ${user.args}: the manifests run as gid ${expect.gid}`);
  }
  const entrypoint = finalOf('ENTRYPOINT');
  const argv = entrypoint === undefined ? undefined : execForm(entrypoint.args);
  if (argv === undefined) problems.push('ENTRYPOINT must be in exec form (JSON array), or signals go to a shell');
  else if (!/(^|\/)(tini|dumb-init)$/.test(argv[0] ?? '')) problems.push(`ENTRYPOINT ${argv[0]}: PID 1 must be an init that forwards SIGTERM (tini)`);
  const cmd = finalOf('CMD');
  if (cmd !== undefined && execForm(cmd.args) === undefined) problems.push('CMD must be in exec form (JSON array)');
  const expose = final.instructions.filter((i) => i.keyword === 'EXPOSE').map((i) => i.args);
  if (expect.port !== undefined && !expose.some((e) => e.split(/\s+/).includes(String(expect.port)))) problems.push(`EXPOSE ${expect.port}: the manifests' container port`);
  // node_modules in the final stage must come from a stage that installed production deps only.
  for (const copy of final.instructions.filter((i) => i.keyword === 'COPY' && /node_modules/.test(i.args))) {
    const from = /--from=(\S+)/.exec(copy.args)?.[1];
    const source = built.find((s) => s.name === from);
    const omitsDev = source?.instructions.some((i) => i.keyword === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args)) ?? false;
    if (!omitsDev) problems.push(`${at(copy)}: node_modules must come from a stage that ran npm ci --omit=dev`);
  }
  if (final.instructions.some((i) => i.keyword === 'RUN' && /npm (ci|install)\b(?!.*--omit=dev)/.test(i.args))) {
    problems.push('the final stage must not install dev dependencies');
  }
  return problems;
}

/** Returns the final stage's ENTRYPOINT followed by its CMD (exec form), as `docker run` would start it. */
export function imageCommand(text: string): string[] {
  const final = stages(parseDockerfile(text)).at(-1);
  const pick = (keyword: string) => execForm(final?.instructions.filter((i) => i.keyword === keyword).at(-1)?.args ?? '') ?? [];
  return [...pick('ENTRYPOINT'), ...pick('CMD')];
}
