// One candidate built on the etcd3 npm package's Election (the peer measured by run.mjs).
// argv: URL NAME TTL_SECONDS ID. Prints `LEADER` on stdout when elected; resigns on SIGTERM.
import { Etcd3 } from 'etcd3';

const [url, name, ttl, id] = process.argv.slice(2);
const client = new Etcd3({ hosts: url });
const campaign = client.election(name, Number(ttl)).campaign(id);
campaign.on('elected', () => process.stdout.write('LEADER\n'));
campaign.on('error', (error) => process.stderr.write(`etcd3 candidate ${id}: ${error}\n`));
process.on('SIGTERM', () => {
  campaign
    .resign()
    .catch(() => undefined)
    .finally(() => {
      client.close();
      process.exit(0);
    });
});
