// Reads compose.yaml against the built image's settings (no Docker here to run compose itself):
// `node test/container/compose-check.mjs <podman image inspect JSON file>`. Called by check.sh;
// prints one "container check: PASS|FAIL — …" line per point and exits 1 on any failure.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// `yaml` comes with @fastify/swagger, a production dependency.
const YAML = createRequire(new URL('../../package.json', import.meta.url))('yaml');
const read = (file) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

const [image] = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const config = image.Config;
const compose = YAML.parse(read('compose.yaml'), { merge: true });
const envExample = read('.env.example');
const ignored = (file) => read(file).split('\n').map((line) => line.trim());

let failures = 0;
function check(name, ok) {
  console.log(`container check: ${ok ? 'PASS' : 'FAIL'} — compose.yaml: ${name}`);
  if (!ok) failures += 1;
}

const imagePort = Object.keys(config.ExposedPorts ?? {})[0]?.split('/')[0];
const imageVolume = Object.keys(config.Volumes ?? {})[0];
const services = compose.services ?? {};
const gateways = Object.entries(services).filter(([, s]) => s.build !== undefined);
const postgres = services.postgres ?? {};
const containerPort = (mapping) => String(mapping).split(':').at(-1);
const hostPort = (mapping) => String(mapping).split(':').at(-2);
const namedVolume = (service, target) =>
  (service.volumes ?? []).map((v) => String(v).split(':')).find(([source, to]) => to === target && compose.volumes && source in compose.volumes);
const requiredVars = [...new Set([...read('compose.yaml').matchAll(/\$\{(\w+):\?/g)].map((m) => m[1]))];

check(`two gateway services built from ./Dockerfile (${gateways.map(([n]) => n).join(', ')})`, gateways.length === 2 && gateways.every(([, s]) => s.build === '.'));
check('the second gateway only in the scale-out profile', gateways.filter(([, s]) => (s.profiles ?? []).includes('scale-out')).length === 1 && !(services.gateway?.profiles));
for (const [name, service] of gateways) {
  check(`${name} publishes the image's port ${imagePort}`, service.ports?.length === 1 && containerPort(service.ports[0]) === imagePort);
  check(`${name} keeps the image's volume ${imageVolume} on a named volume`, namedVolume(service, imageVolume) !== undefined);
  check(`${name} starts after PostgreSQL is healthy`, service.depends_on?.postgres?.condition === 'service_healthy');
  check(`${name} requires MESSAGEAPI_SECRET and reads the env file .env`, /^\$\{MESSAGEAPI_SECRET:\?/.test(service.environment?.MESSAGEAPI_SECRET ?? '') && service.env_file === '.env');
  const url = service.environment?.DATABASE_URL ?? '';
  check(`${name} uses the postgres service's user and database`, url.startsWith(`postgres://${postgres.environment?.POSTGRES_USER}:`) && url.endsWith(`@postgres:5432/${postgres.environment?.POSTGRES_DB}`));
}
check('the gateways publish different host ports', new Set(gateways.map(([, s]) => hostPort(s.ports?.[0]))).size === gateways.length);
check('postgres is the official postgres:17 image', postgres.image === 'postgres:17');
check("postgres keeps its data on a named volume", namedVolume(postgres, '/var/lib/postgresql/data') !== undefined);
check('postgres has a pg_isready healthcheck', JSON.stringify(postgres.healthcheck?.test ?? '').includes('pg_isready'));
check(`.env.example names every required variable (${requiredVars.join(', ')})`, requiredVars.length > 0 && requiredVars.every((v) => new RegExp(`^${v}=`, 'm').test(envExample)));
check('.env stays out of git and out of the image', ignored('.gitignore').includes('.env') && ignored('.dockerignore').some((p) => p === '.env' || p === '.env*'));
process.exit(failures === 0 ? 0 : 1);
