import { api } from '../api';
import { Card, CopyButton, Empty, Notice, PageHeader, Skeleton } from '../components/ui';
import { useLoad } from '../session';

export function GroupsPage() {
  const groups = useLoad(() => api<{ groups: Array<{ id: string; name: string; participants: number }> }>('GET', '/api/v1/groups'));
  return (
    <>
      <PageHeader title="Groups" lead="The groups of your linked number. Send to a group by putting its id in recipient." />
      <Card>
        {!groups.data && !groups.error && <Skeleton lines={3} height={20} />}
        {groups.code === 'plan_restriction' && (
          <Empty title="Groups need the Unlimited plan">Ask the operator of this server to move your account to Unlimited.</Empty>
        )}
        {groups.code === 'not_connected' && (
          <Empty title="WhatsApp is not connected">
            <a href="/connection">Link your number</a> to see its groups.
          </Empty>
        )}
        {groups.error && groups.code !== 'plan_restriction' && groups.code !== 'not_connected' && <Notice tone="error">{groups.error}</Notice>}
        {groups.data && groups.data.groups.length === 0 && <Empty title="No groups">Your number is not in any group yet.</Empty>}
        {groups.data && groups.data.groups.length > 0 && (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Members</th>
                  <th scope="col">Group id</th>
                </tr>
              </thead>
              <tbody>
                {groups.data.groups.map((g) => (
                  <tr key={g.id}>
                    <td data-label="Name">{g.name}</td>
                    <td data-label="Members">{g.participants}</td>
                    <td data-label="Group id" class="id-cell">
                      <code>{g.id.replace(/@.*$/, '')}<wbr />{g.id.slice(g.id.replace(/@.*$/, '').length)}</code> <CopyButton text={g.id} label="Copy id" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
