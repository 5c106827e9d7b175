'use server';
import { redirect } from 'next/navigation';
import { callTasksApi } from '../lib/tokens';

export async function addTask(formData) {
  const title = String(formData.get('title') || '').trim();
  if (title) {
    const { status, body } = await callTasksApi('/tasks', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title }),
    });
    if (status !== 201) {
      redirect(`/?error=${encodeURIComponent(`could not add the task (HTTP ${status}: ${body?.detail ?? ''})`)}`);
    }
  }
  redirect('/');
}
