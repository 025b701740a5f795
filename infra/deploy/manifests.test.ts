/**
 * The deployment files against the code, statically (no Docker engine or cluster here):
 * every Kubernetes manifest and compose.yaml parse; every environment variable they give a
 * pdm container is one a service reads (services/cli/env-vars.ts), and the ConfigMap's
 * configuration file loads as a service would load it; commands and their
 * options are real `pdm` subcommands and options (asked of the CLI itself); probes and
 * health checks hit /healthz and /readyz on the port given to --metrics-port; KEDA scales
 * real workloads on the consumer groups and topics the services use; and the Dockerfile
 * copies only paths that exist and that the build context keeps, into an image whose
 * entrypoint exists, that runs as a non-root user, and that holds every module the deployed
 * commands import, with only production dependencies.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isServiceEnvVar } from '../../services/cli/env-vars.ts';
import { parseConfigFile } from '../../services/config/config-file.ts';
import { loadConfiguration } from '../../services/config/load.ts';
import { topicNames } from '../../services/kafka/topics.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = join(ROOT, 'infra', 'deploy', 'k8s');
const IMAGE = 'pdm';
/**
 * Subcommands the manifests run that another branch adds (`pdm web`). While one is missing
 * from the CLI its options cannot be checked; once it exists this test fails until it is
 * taken off the list, so the check is never skipped silently.
 */
const PENDING_COMMANDS = new Set<string>();

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v && typeof v === 'object' ? (v as Obj) : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Every document of a YAML file; a parse error or warning fails with the file's name. */
function yamlDocs(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'), { merge: true, prettyErrors: true });
  const out: Obj[] = [];
  for (const d of docs) {
    const problems = [...d.errors, ...d.warnings].map((e) => `${relative(ROOT, file)}: ${e.message}`);
    expect(problems).toEqual([]);
    const js = d.toJS({ maxAliasCount: 100 }) as unknown;
    if (js !== null && js !== undefined) out.push(asObj(js));
  }
  return out;
}

const k8sFiles = readdirSync(K8S).filter((f) => f.endsWith('.yaml')).map((f) => join(K8S, f));
const k8s = k8sFiles.flatMap((f) => yamlDocs(f).map((doc) => ({ file: relative(ROOT, f), doc })));
const compose = yamlDocs(join(ROOT, 'compose.yaml'))[0]!;

/** `pdm --help`'s command list and, per command, its usage text. */
function cli(args: string[]): { status: number | null; stdout: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'services', 'cli', 'bin.mjs'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout };
}
const mainHelp = cli(['--help']);
const commands = new Set(
  mainHelp.stdout
    .split('Commands:')[1]!
    .split('\n')
    .map((l) => /^ {2}(\S+)\s/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined),
);
const usageCache = new Map<string, string>();
function usageOf(command: string): string {
  let u = usageCache.get(command);
  if (u === undefined) {
    const r = cli([command, '--help']);
    expect(r.status, `pdm ${command} --help`).toBe(0);
    u = r.stdout;
    usageCache.set(command, u);
  }
  return u;
}

/**
 * Checks one pdm container's command line: a real subcommand, only options its usage names,
 * and --metrics-port given. Returns the subcommand and the metrics port.
 */
function checkCommandLine(where: string, args: string[]): { command: string; metricsPort: number | undefined } {
  const [command, ...rest] = args;
  expect(command, `${where}: no subcommand`).toBeDefined();
  if (PENDING_COMMANDS.has(command!)) {
    expect(commands.has(command!), `${where}: pdm ${command} exists now: take it off PENDING_COMMANDS`).toBe(false);
  } else {
    expect([...commands], `${where}: pdm ${command} is not a pdm subcommand`).toContain(command);
    const usage = usageOf(command!);
    for (const opt of rest.filter((a) => a.startsWith('--'))) expect(usage, `${where}: pdm ${command} has no option ${opt}`).toContain(`${opt} `);
  }
  const i = rest.indexOf('--metrics-port');
  return { command: command!, metricsPort: i >= 0 ? Number(rest[i + 1]) : undefined };
}

interface Workload {
  file: string;
  kind: string;
  name: string;
  pod: Obj;
}
const workloads: Workload[] = k8s
  .filter(({ doc }) => doc.kind === 'Deployment' || doc.kind === 'StatefulSet')
  .map(({ file, doc }) => ({ file, kind: String(doc.kind), name: String(asObj(doc.metadata).name), pod: asObj(asObj(asObj(doc.spec).template).spec) }));
const configMap = k8s.find(({ doc }) => doc.kind === 'ConfigMap')?.doc;
const configData = asObj(asObj(configMap).data);
/** The configuration file the ConfigMap holds, parsed as the services parse it. */
const CONFIG_KEY = 'pdm.json';
const configFile = parseConfigFile(String(configData[CONFIG_KEY]), `configmap.yaml ${CONFIG_KEY}`);
const setting = (env: string) => configFile.settings.get(env);

describe('Kubernetes manifests', () => {
  it('parse, and kustomization.yaml lists every manifest but the secret template', () => {
    expect(k8s.length).toBeGreaterThan(8);
    const kustomization = k8s.find(({ file }) => file.endsWith('kustomization.yaml'))!.doc;
    const listed = asArr(kustomization.resources).map(String).sort();
    const files = k8sFiles.map((f) => f.slice(K8S.length + 1)).filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml').sort();
    expect(listed).toEqual(files);
  });

  it('have a workload per service, each running a real pdm command', () => {
    expect(workloads.map((w) => `${w.kind}/${w.name}`).sort()).toEqual(['Deployment/case-opener', 'Deployment/influx-sink', 'Deployment/web', 'StatefulSet/scorer']);
    for (const w of workloads) {
      for (const c of asArr(w.pod.containers).map(asObj)) {
        expect(c.image, `${w.file}: ${c.name} image`).toBe(IMAGE);
        const { command } = checkCommandLine(`${w.file} ${c.name}`, asArr(c.args).map(String));
        expect(command).toBe(w.name);
      }
    }
  });

  it('give every service the ConfigMap’s configuration file, valid as a service would load it, and only known variables besides', async () => {
    expect(Object.keys(configData)).toEqual([CONFIG_KEY]);
    const secretKeys = Object.keys(asObj(k8s.find(({ doc }) => doc.kind === 'Secret')?.doc.stringData));
    // Loaded with the Secret's variables, as a pod starts: every setting validated, nothing missing.
    const dir = mkdtempSync(join(tmpdir(), 'pdm-manifests-'));
    writeFileSync(join(dir, CONFIG_KEY), String(configData[CONFIG_KEY]));
    const env: NodeJS.ProcessEnv = Object.fromEntries(secretKeys.map((k) => [k, 'from-the-secret']));
    const loaded = await loadConfiguration(join(dir, CONFIG_KEY), env);
    expect(loaded.env.brokers).toEqual(['kafka-bootstrap.kafka.svc:9092']);
    expect(loaded.applied!.fromFile.length).toBeGreaterThan(8);
    for (const w of workloads) {
      const volumes = new Map(asArr(w.pod.volumes).map(asObj).map((v) => [String(v.name), v]));
      for (const c of asArr(w.pod.containers).map(asObj)) {
        const args = asArr(c.args).map(String).join(' ');
        let configPath: string | undefined;
        for (const e of asArr(c.env).map(asObj)) {
          const name = String(e.name);
          const from = asObj(e.valueFrom);
          if (from.fieldRef) {
            // Downward-API values exist only to be expanded into the arguments.
            expect(args, `${w.file}: ${name} is set but not used in args`).toContain(`$(${name})`);
            continue;
          }
          expect(isServiceEnvVar(name), `${w.file}: ${name} is not a variable any service reads`).toBe(true);
          if (name === 'PDM_CONFIG_FILE') configPath = String(e.value);
          const ref = asObj(from.secretKeyRef);
          if (from.secretKeyRef) {
            expect([ref.name, ref.key], `${w.file}: ${name}`).toEqual(['pdm-secrets', name]);
            expect(secretKeys).toContain(name);
          }
        }
        // PDM_CONFIG_FILE names the ConfigMap's key where the pod mounts it.
        expect(configPath, `${w.file}: PDM_CONFIG_FILE`).toBeDefined();
        const mount = asArr(c.volumeMounts).map(asObj).find((m) => configPath!.startsWith(`${String(m.mountPath)}/`));
        expect(mount, `${w.file}: nothing mounted at ${configPath}`).toBeDefined();
        expect(configPath!.slice(String(mount!.mountPath).length + 1)).toBe(CONFIG_KEY);
        expect(asObj(volumes.get(String(mount!.name))?.configMap).name, `${w.file}: volume ${String(mount!.name)}`).toBe(asObj(configMap?.metadata).name);
        expect(c.envFrom, `${w.file}: settings belong in the file`).toBeUndefined();
      }
    }
  });

  it('probe /healthz and /readyz on the metrics port, and run as non-root on a read-only root', () => {
    for (const w of workloads) {
      expect(asObj(w.pod.securityContext).runAsNonRoot, w.file).toBe(true);
      for (const c of asArr(w.pod.containers).map(asObj)) {
        const { metricsPort } = checkCommandLine(w.file, asArr(c.args).map(String));
        expect(metricsPort, `${w.file}: --metrics-port`).toBeGreaterThan(0);
        const ports = new Map(asArr(c.ports).map(asObj).map((p) => [String(p.name), Number(p.containerPort)]));
        const probePort = (probe: string) => {
          const get = asObj(asObj(c[probe]).httpGet);
          return { path: get.path, port: typeof get.port === 'number' ? get.port : ports.get(String(get.port)) };
        };
        expect(probePort('livenessProbe'), `${w.file} liveness`).toEqual({ path: '/healthz', port: metricsPort });
        expect(probePort('readinessProbe'), `${w.file} readiness`).toEqual({ path: '/readyz', port: metricsPort });
        expect(asObj(c.securityContext).readOnlyRootFilesystem, w.file).toBe(true);
      }
    }
  });

  it('scale the scorer and the sink on the lag of the groups and topics they consume', () => {
    const scaled = k8s.filter(({ doc }) => doc.kind === 'ScaledObject').map(({ doc }) => asObj(doc.spec));
    expect(scaled.map((s) => asObj(s.scaleTargetRef).name).sort()).toEqual(['influx-sink', 'scorer']);
    for (const s of scaled) {
      const target = asObj(s.scaleTargetRef);
      expect(workloads.some((w) => w.kind === target.kind && w.name === target.name), `no ${String(target.kind)}/${String(target.name)}`).toBe(true);
      const [trigger] = asArr(s.triggers).map(asObj);
      expect(trigger!.type).toBe('kafka');
      const meta = asObj(trigger!.metadata);
      expect(meta.bootstrapServers).toBe(setting('PDM_KAFKA_BROKERS'));
      // The group id the service's command gives its consumer (prefix + pdm-<service>).
      const commandFile = readFileSync(join(ROOT, 'services', 'cli', target.name === 'scorer' ? 'scorer-command.ts' : 'sink-command.ts'), 'utf8');
      expect(commandFile).toContain(`groupId: \`\${ctx.env.topicPrefix}${String(meta.consumerGroup)}\``);
      if (meta.topic !== undefined) expect(meta.topic).toBe(topicNames().readings);
      expect(Number(s.maxReplicaCount)).toBeLessThanOrEqual(Number(setting('PDM_PARTITIONS')));
    }
  });
});

describe('compose.yaml', () => {
  const services = Object.entries(asObj(compose.services)).map(([name, s]) => ({ name, s: asObj(s) }));
  const pdm = services.filter(({ s }) => String(s.image).split(':')[0] === IMAGE);

  it('runs every service from the pdm image and its servers from pinned images', () => {
    expect(pdm.map((p) => p.name).sort()).toEqual(['case-opener', 'influx-sink', 'scorer', 'simulate', 'web']);
    for (const { name, s } of services.filter((x) => !pdm.includes(x))) expect(String(s.image), name).toMatch(/^[\w./-]+:\d[\w.-]*$/);
  });

  it('gives pdm services real commands, known variables and a readiness check on the metrics port', () => {
    for (const { name, s } of pdm) {
      const { metricsPort } = checkCommandLine(`compose ${name}`, asArr(s.command).map(String));
      expect(Object.keys(asObj(s.environment)).filter((k) => !isServiceEnvVar(k)), `compose ${name}`).toEqual([]);
      const hc = asObj(s.healthcheck);
      if (hc.disable === true) continue;
      expect(metricsPort, `compose ${name}: --metrics-port`).toBeGreaterThan(0);
      expect(asArr(hc.test).join(' '), `compose ${name}`).toContain(`http://127.0.0.1:${metricsPort}/readyz`);
    }
  });
});

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function dockerInstructions(): { op: string; rest: string }[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), rest: rest.join(' ') };
    });
}

/** Relative imports and package names a TypeScript file loads at run time (type-only imports are erased). */
function importsOf(file: string): { local: string[]; packages: string[] } {
  const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  for (const m of code.matchAll(/^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) specs.push(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]!);
  const local: string[] = [];
  const packages: string[] = [];
  for (const s of specs) {
    if (s.startsWith('.')) local.push(resolve(dirname(file), s));
    else if (!s.startsWith('node:') && !builtinModules.includes(s)) packages.push(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!);
  }
  return { local, packages };
}

describe('Dockerfile (static: no Docker engine here, the image is not built)', () => {
  const ins = dockerInstructions();
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const isIgnored = (path: string) => ignored.some((p) => path === p || path.startsWith(`${p}/`) || (p.includes('*') && (globMatch(path, p) || globMatch(path, p.replace(/^\*\*\//, '')))));
  const globMatch = (path: string, pattern: string): boolean => {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/?/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\u0000/g, '(?:.*/)?')}$`);
    return re.test(path);
  };
  const copies = ins.filter((i) => i.op === 'COPY' && !i.rest.startsWith('--from'));
  const copied = copies.flatMap((c) => c.rest.split(/\s+/).slice(0, -1));
  const stages = ins.filter((i) => i.op === 'FROM');

  it('builds on Node 24 in more than one stage, and the runtime stage copies from an earlier one', () => {
    const args = new Map(ins.filter((i) => i.op === 'ARG').map((i) => i.rest.split('=') as [string, string]));
    const images = stages.map((s) => s.rest.split(/\s+/)[0]!.replace(/^\$\{(\w+)\}$/, (_m, v: string) => args.get(v) ?? ''));
    expect(images.length).toBeGreaterThan(1);
    for (const img of images) expect(img).toMatch(/^node:24[.-]/);
    const names = stages.map((s) => /\sAS\s+(\S+)/i.exec(s.rest)?.[1]);
    for (const c of ins.filter((i) => i.op === 'COPY' && i.rest.startsWith('--from'))) {
      expect(names.slice(0, -1)).toContain(/--from=(\S+)/.exec(c.rest)![1]);
    }
  });

  it('copies only paths that exist and that .dockerignore keeps in the context', () => {
    expect(copied.length).toBeGreaterThan(2);
    for (const src of copied) {
      expect(existsSync(join(ROOT, src)), `COPY ${src}: no such path`).toBe(true);
      expect(isIgnored(src), `COPY ${src}: excluded by .dockerignore`).toBe(false);
    }
    // The test files are left out of the image.
    expect(isIgnored('services/producer/producer.int.test.ts')).toBe(true);
    expect(isIgnored('services/core/core.test.ts')).toBe(true);
  });

  it('runs as a non-root user, with an entrypoint that is in the image', () => {
    const last = ins.slice(ins.lastIndexOf(stages.at(-1)!));
    const user = last.filter((i) => i.op === 'USER').at(-1)?.rest;
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const entry = JSON.parse(last.find((i) => i.op === 'ENTRYPOINT')!.rest) as string[];
    expect(entry[0]).toBe('node');
    // Node flags first (the young generation size bin.mjs's own first line asks for), then the script.
    const script = entry.slice(1).find((a) => !a.startsWith('--'))!;
    expect(entry.slice(1, entry.indexOf(script))).toEqual(['--max-semi-space-size=32']);
    expect(existsSync(join(ROOT, script))).toBe(true);
    expect(copied.some((src) => script === src || script.startsWith(`${src}/`))).toBe(true);
    expect(JSON.parse(last.find((i) => i.op === 'CMD')!.rest)).toEqual(['--help']);
  });

  it('holds every module the deployed commands load, and needs no dev dependency', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Obj };
    const main = join(ROOT, 'services', 'cli', 'main.ts');
    const mainText = readFileSync(main, 'utf8');
    const loaders = new Map([...mainText.matchAll(/['"]?([a-z][a-z-]*)['"]?:\s*\{\s*summary:[\s\S]*?import\('(\.\/[^']+)'\)/g)].map((m) => [m[1]!, resolve(dirname(main), m[2]!)]));
    const deployed = new Set<string>();
    for (const { s } of Object.entries(asObj(compose.services)).map(([, s]) => ({ s: asObj(s) }))) if (String(s.image).startsWith(IMAGE)) deployed.add(String(asArr(s.command)[0]));
    for (const w of workloads) for (const c of asArr(w.pod.containers).map(asObj)) deployed.add(String(asArr(c.args)[0]));
    const roots = [join(ROOT, 'services', 'cli', 'bin.mjs'), ...[...deployed].filter((c) => !PENDING_COMMANDS.has(c)).map((c) => loaders.get(c)!)];
    expect(roots.every((r) => r !== undefined)).toBe(true);
    const seen = new Set<string>();
    const packages = new Set<string>();
    const todo = [...roots];
    while (todo.length > 0) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      // main.ts's lazy imports are followed only for the deployed commands (roots above).
      const { local, packages: pk } = importsOf(file);
      for (const p of pk) packages.add(p);
      if (file !== main) todo.push(...local);
      else todo.push(...local.filter((l) => !/\/cli\/[^/]+-command\.ts$|\/cli\/score\.ts$/.test(l)));
    }
    const outside = [...seen].map((f) => relative(ROOT, f)).filter((f) => !copied.some((src) => f === src || f.startsWith(`${src}/`)) || isIgnored(f));
    expect(outside).toEqual([]);
    expect([...seen].every((f) => existsSync(f) && statSync(f).isFile())).toBe(true);
    expect([...packages].filter((p) => !Object.hasOwn(pkg.dependencies, p)).sort()).toEqual([]);
    expect(seen.size).toBeGreaterThan(20);
  });
});
