-- alert_deliveries.error (the reason a notification failed, which can carry
-- the start of a receiver's answer) is readable by admins only (issue 12,
-- item 5). Viewers and operators keep the rest of the delivery log.
--
-- Column privileges, not a policy: RLS filters rows, not columns, and every
-- member may read the rows. `authenticated` (every signed-in user, through
-- PostgREST or any other path) may select every column but `error`; admins
-- read it through private.alert_delivery_error(), which checks the role.

revoke select on public.alert_deliveries from authenticated;
grant select (id, alert_id, channel_id, outbox_id, status, attempt, response_code, attempted_at)
    on public.alert_deliveries to authenticated;

-- The error of one delivery attempt, for admins (and the service role);
-- null for anyone else, and for a row the caller cannot see.
create function private.alert_delivery_error(delivery_id bigint) returns text
    language plpgsql stable security definer set search_path = '' as $$
begin
    if coalesce(auth.role(), '') <> 'service_role' and not private.has_role('admin') then
        return null;
    end if;
    return (select d.error from public.alert_deliveries as d where d.id = delivery_id);
end;
$$;

comment on function private.alert_delivery_error(bigint) is
    'The error of one alert delivery attempt: admins and the service role only, null for anyone else.';

revoke all on function private.alert_delivery_error(bigint) from public;
grant execute on function private.alert_delivery_error(bigint) to authenticated, service_role;
