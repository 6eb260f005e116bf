// What an admin form could not save, each problem on its line: the banner above the form that the
// same errors, beside their fields, sit under.
import { Banner, List } from '@shopify/polaris';

export function ProblemsBanner({ title, problems }: { title: string; problems: string[] }) {
  if (problems.length === 0) return null;
  return (
    <Banner tone="critical" title={title}>
      <List>
        {problems.map((p) => (
          <List.Item key={p}>{p}</List.Item>
        ))}
      </List>
    </Banner>
  );
}
