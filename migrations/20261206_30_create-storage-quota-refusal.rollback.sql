DROP FUNCTION public.storage_quota_refusal(text, uuid, bigint, bigint, uuid, bigint, bigint);
