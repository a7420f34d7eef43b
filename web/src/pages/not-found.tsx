import { Empty, PageHeader } from '../components/ui';

export function NotFoundPage() {
  return (
    <>
      <PageHeader title="Page not found" />
      <Empty title="There is no such page">
        <a href="/">Back to the overview</a>
      </Empty>
    </>
  );
}
